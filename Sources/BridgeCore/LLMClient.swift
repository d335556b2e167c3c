/// The seam between the pipeline and a model: the OpenAI-compatible HTTP upstream, the simulated
/// model, or a test fake.
public protocol LLMClient: Sendable {
    /// Starts one generation. The client calls `receiver` from its own thread, in order: any number
    /// of `llmDidProduce`, then exactly one `llmDidFinish`, unless the call is cancelled first (then
    /// it may stop calling at once).
    func start(_ request: UpstreamRequest, receiver: any LLMReceiver) -> any LLMCall

    /// Checks that the model server answers, for `/health`. Nil when it does; what went wrong otherwise.
    func probe() async -> String?

    /// The models to list on `/v1/models`.
    func models() async -> Result<[String], StreamFailure>
}

/// One running generation.
public protocol LLMCall: Sendable {
    /// Aborts the generation at once; no more receiver calls follow.
    func cancel()
}

/// What a model call reports as it runs.
public protocol LLMReceiver: AnyObject, Sendable {
    func llmDidProduce(_ output: LLMOutput)
    /// What one read of the model's answer held, in order: the same as producing each in turn.
    func llmDidProduce(contentsOf outputs: [LLMOutput])
    func llmDidFinish(_ failure: StreamFailure?)
}

extension LLMReceiver {
    public func llmDidProduce(contentsOf outputs: [LLMOutput]) {
        for output in outputs { llmDidProduce(output) }
    }
}

/// A request as it goes upstream: the client's body, with the bridge's choice of model.
public struct UpstreamRequest: Sendable {
    public var body: JSONObject
    public var model: String
    public var uid: String

    public init(body: JSONObject, model: String, uid: String) {
        self.body = body
        self.model = model
        self.uid = uid
    }
}

/// One decoded piece of model output.
public enum LLMOutput: Sendable, Equatable {
    case text(String)
    case reasoning(String)
    case toolCall(ToolCallDelta)
    case finishReason(String)
    case usage(Usage)

    /// Output the client sees (text, reasoning, a tool call), as opposed to bookkeeping.
    public var isToken: Bool {
        switch self {
        case .text, .reasoning, .toolCall: return true
        case .finishReason, .usage: return false
        }
    }
}
