import BridgeCore
import OpenAIWire

/// A recorded model-server stream and what decoding it must give.
struct StreamFixture: Sendable, CustomStringConvertible {
    var name: String
    var wire: [UInt8]
    var text = ""
    var reasoning = ""
    var toolCalls: [ToolCallDelta] = []
    var finishReason: String?
    var usage: Usage?
    var model: String?
    var failure: StreamFailure?
    var endsWithDone = true

    var description: String { name }

    /// `events` is written with LF line ends and no final newline; the blank line ending the last
    /// event is added here.
    init(_ name: String, _ events: String, lineEnding: String = "\n") {
        self.name = name
        let text = events + "\n\n"
        self.wire = Array((lineEnding == "\n" ? text : text.replacingLineFeeds(with: lineEnding)).utf8)
    }
}

extension String {
    func replacingLineFeeds(with ending: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: ending)
    }
}

/// The outputs of a stream folded into what a caller ends up with.
struct Assembled: Equatable {
    var text = ""
    var reasoning = ""
    var toolCalls: [ToolCallDelta] = []
    var finishReason: String?
    var usage: Usage?

    init(_ outputs: [LLMOutput]) {
        for output in outputs {
            switch output {
            case .text(let piece): text += piece
            case .reasoning(let piece): reasoning += piece
            case .finishReason(let reason): finishReason = reason
            case .usage(let value): usage = value
            case .toolCall(let piece):
                guard let position = toolCalls.firstIndex(where: { $0.index == piece.index }) else {
                    toolCalls.append(piece)
                    continue
                }
                if let id = piece.id { toolCalls[position].id = id }
                if let name = piece.name { toolCalls[position].name = name }
                toolCalls[position].arguments += piece.arguments
            }
        }
    }
}

/// What one pass of SSEDecoder + ChatChunkDecoder over a stream produced.
struct DecodeRun: Equatable {
    var messages: [SSEMessage] = []
    var outputs: [LLMOutput] = []
    var failure: StreamFailure?
    var isDone = false
    var model: String?
    var commentCount = 0
}
