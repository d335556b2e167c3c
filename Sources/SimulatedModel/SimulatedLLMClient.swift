import BridgeCore
import Foundation
import Synchronization

/// The `simulated` provider: answers every request with `SimulatedModel`, paced at its configured
/// (or requested) rate, with no network and no GPU.
///
/// Outputs reach the receiver from a pacer thread shared by many streams, never from the caller of
/// `start`, even at rate 0.
public struct SimulatedLLMClient: LLMClient {
    public let model: SimulatedModel
    /// Nil: spread streams over the process-wide pacers.
    private let pacer: StreamPacer?

    public init(configuration: SimulatedModel.Configuration = SimulatedModel.Configuration()) {
        self.model = SimulatedModel(configuration: configuration)
        self.pacer = nil
    }

    /// A client delivering from its own pacer, so tests can watch that pacer's thread and queue.
    init(configuration: SimulatedModel.Configuration, pacer: StreamPacer) {
        self.model = SimulatedModel(configuration: configuration)
        self.pacer = pacer
    }

    public func start(_ request: UpstreamRequest, receiver: any LLMReceiver) -> any LLMCall {
        let answer = model.plan(for: request.body, model: request.model)
        return (pacer ?? SharedPacers.next()).schedule(answer, to: receiver)
    }

    /// Always healthy: there is nothing to reach.
    public func probe() async -> String? {
        nil
    }

    public func models() async -> Result<[String], StreamFailure> {
        .success([model.configuration.modelName])
    }
}

/// The process-wide pacers: a few threads, each with its own heap, so a benchmark's thousands of
/// streams (and the receivers' work on each token) are not all on one core. Streams are dealt out
/// round-robin; each stays on its pacer, so its outputs keep their order.
enum SharedPacers {
    static let pacers: [StreamPacer] = {
        let count = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount / 2))
        return (0..<count).map { StreamPacer(name: "tokenbridge.simulated.\($0)") }
    }()

    private static let counter = Atomic<Int>(0)

    static func next() -> StreamPacer {
        let index = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return pacers[Int(index.magnitude % UInt(pacers.count))]
    }
}
