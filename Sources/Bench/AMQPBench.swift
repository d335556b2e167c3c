import BridgeCore
import Logging

/// `tokenbridge bench --ingress amqp`: prompts through the bridge's queue ingress, or the broker's
/// own ceiling, measured over `duration` after a one-second warm-up.
public enum AMQPBench {
    public static func run(_ options: AMQPBenchOptions) async throws -> AMQPBenchReport {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let load: any AMQPLoad =
            options.mode == .brokerCeiling
            ? try AMQPCeilingLoad(options: options, logger: logger) : try AMQPPromptLoad(options: options, logger: logger)
        try load.begin()
        let connectBy = ContinuousClock.now + .seconds(10)
        while !load.isOpen {
            guard ContinuousClock.now < connectBy else {
                load.shutdown()
                throw AMQPBenchError("could not connect to \(options.url) within 10 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        load.fill()
        try await Task.sleep(for: .seconds(1))
        var sampler = options.pid.map(ProcessSampler.init)
        let ownCPUAtStart = ProcFile.cpuTime(of: "self")
        let before = load.tally
        let start = ContinuousClock.now
        var nextProgress = start + .seconds(1)
        var lastMessages = before.messages
        while ContinuousClock.now - start < options.duration {
            try await Task.sleep(for: .milliseconds(100))
            sampler?.update()
            if options.showsProgress, ContinuousClock.now >= nextProgress {
                nextProgress = nextProgress + .seconds(1)
                let now = load.tally
                StandardError.write(
                    line: "bench \(Int((ContinuousClock.now - start).components.seconds))s: prompts done \(now.promptsCompleted - before.promptsCompleted), "
                        + "messages +\(now.messages - lastMessages), failed \(now.promptsFailed)")
                lastMessages = now.messages
            }
        }
        let elapsed = ContinuousClock.now - start
        let after = load.tally
        let ownCPU = ProcFile.cpuTime(of: "self").flatMap { now in ownCPUAtStart.map { now - $0 } }
        sampler?.update()
        load.stopStarting()
        // Let the prompts in flight end, so their checks count too.
        let drainBy = ContinuousClock.now + .seconds(15)
        while load.inFlight > 0, ContinuousClock.now < drainBy { try await Task.sleep(for: .milliseconds(50)) }
        let final = load.tally
        load.shutdown()
        return AMQPBenchReport(
            options: options, window: elapsed, before: before, after: after, final: final,
            firstToken: load.firstTokenLatencies, unfinished: load.inFlight,
            target: sampler?.sample, benchCPU: ownCPU, machine: .current())
    }
}

struct AMQPBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The two loads behind one run loop.
protocol AMQPLoad: AnyObject, Sendable {
    var isOpen: Bool { get }
    var tally: AMQPBenchTally { get }
    /// Prompt published to first delta consumed, microseconds.
    var firstTokenLatencies: HdrHistogram { get }
    var inFlight: Int { get }
    func begin() throws
    func fill()
    func stopStarting()
    func shutdown()
}

extension AMQPPromptLoad: AMQPLoad {
    func shutdown() {
        for connection in connections { connection.shutdown(timeout: .seconds(2)) }
    }
}

extension AMQPCeilingLoad: AMQPLoad {
    var inFlight: Int { 0 }
    var firstTokenLatencies: HdrHistogram { HdrHistogram() }
}
