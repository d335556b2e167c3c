import BridgeCore

/// The `simulated` provider: answers every request with `SimulatedModel`, paced at its configured
/// (or requested) rate, with no network and no GPU.
///
/// Outputs reach the receiver from a pacer thread shared by many streams, never from the caller of
/// `start`, even at rate 0.
public struct SimulatedLLMClient: LLMClient {
    /// The model that plans every answer.
    public let model: SimulatedModel
    /// Nil: spread streams over the process-wide pacers.
    private let pacer: StreamPacer?

    /// A client delivering from the process-wide pacer threads.
    public init(configuration: SimulatedModel.Configuration = SimulatedModel.Configuration()) {
        self.model = SimulatedModel(configuration: configuration)
        self.pacer = nil
    }

    /// A client delivering from its own pacer, so tests can watch that pacer's thread and queue.
    init(configuration: SimulatedModel.Configuration, pacer: StreamPacer) {
        self.model = SimulatedModel(configuration: configuration)
        self.pacer = pacer
    }

    /// Plans the answer on the calling thread (about 50 µs for the default length) and hands it to a
    /// pacer; every receiver call comes from the pacer's thread.
    public func start(_ request: UpstreamRequest, receiver: any LLMReceiver) -> any LLMCall {
        let answer = model.plan(for: request.body, model: request.model)
        return (pacer ?? SharedPacers.next()).schedule(answer, to: receiver)
    }

    /// Always healthy: there is nothing to reach.
    public func probe() async -> String? {
        nil
    }

    /// The configured model name; any other name in a request is answered all the same.
    public func models() async -> Result<[String], StreamFailure> {
        .success([model.configuration.modelName])
    }
}
