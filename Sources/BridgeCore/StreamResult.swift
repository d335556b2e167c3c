/// The assembled answer of a stream: what a non-streaming caller gets back.
public struct StreamResult: Sendable, Equatable {
    public var uid: String
    public var model: String = ""
    public var text: String = ""
    public var reasoning: String = ""
    public var toolCalls: [ToolCallDelta] = []
    public var finishReason: String?
    public var usage: Usage?
    public var failure: StreamFailure?
    public var cancelled = false
    public var isComplete = false

    public init(uid: String) {
        self.uid = uid
    }

    /// Folds one event into the answer; tool-call pieces are joined by `index`.
    public mutating func apply(_ event: StreamEvent) {
        switch event.kind {
        case .start(_, let model):
            self = StreamResult(uid: uid)
            self.model = model
        case .delta(let piece):
            text += piece
        case .reasoning(let piece):
            reasoning += piece
        case .toolCall(let piece):
            if let position = toolCalls.firstIndex(where: { $0.index == piece.index }) {
                if let id = piece.id { toolCalls[position].id = id }
                if let name = piece.name {
                    if toolCalls[position].name == nil { toolCalls[position].name = name }
                }
                toolCalls[position].arguments += piece.arguments
            } else {
                toolCalls.append(piece)
            }
        case .done(let reason, let usage):
            finishReason = reason
            self.usage = usage
            isComplete = true
        case .error(let failure):
            self.failure = failure
            isComplete = true
        case .cancelled:
            cancelled = true
            isComplete = true
        }
    }
}
