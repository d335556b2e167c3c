import AMQP
import BridgeCore
import Glibc
import Logging
import Synchronization

/// Prompts from a RabbitMQ queue, answers to response queues: the drop-in for chatgpt-queue.
///
/// A prompt is acked only once its stream's terminal event was confirmed by the broker; a prompt
/// that cannot be answered goes to `<queue>.dead` with headers saying why. When the broker
/// connection drops, running prompts are written off (the broker redelivers them) and their
/// streams stop publishing, exactly as if the bridge had crashed: the rerun begins with a new
/// `start` event and epoch.
public final class RabbitMQIngress: AMQPConnectionDelegate, DependencyHealth {
    static let promptConsumerTag = "tokenbridge-prompts"
    static let controlConsumerTag = "tokenbridge-control"

    struct State {
        var inFlight: [String: InFlightPrompt] = [:] {
            didSet { if inFlight.isEmpty { releaseSettlementWaiters() } }
        }
        var waiting: [WaitingPrompt] = []
        var consuming = true
        /// The broker session prompts are taken from now; deliveries of an older one are moot.
        var session: UInt64?
        /// New prompts wait while the broker blocks publishing, or until this instant after the
        /// broker fell behind: starting them would only fill memory with answers it cannot take.
        var brokerBlocked = false
        var holdUntil: ContinuousClock.Instant?
        var holdBackoff = HoldBackoff()
        /// After a hold, one prompt goes first; the rest follow once its answer got through.
        var probing = false
        var probe: String?
        /// Prompts whose whole answer the broker confirmed: a redelivery of one of these (its ack
        /// was lost with a connection) is acked without generating it again.
        var answered: CompletedStreams
        /// Answers of HTTP streams (the `rabbitmq` sink) that did not reach their response queue.
        var responseSinkFailures = 0
        var settlementWaiters: [CheckedContinuation<Void, Never>] = []

        mutating func releaseSettlementWaiters() {
            for waiter in settlementWaiters { waiter.resume() }
            settlementWaiters = []
        }
    }

    let configuration: RabbitMQIngressConfiguration
    let pipeline: Pipeline
    let logger: Logger
    let connection: AMQPConnection
    let decoder: PromptDecoder
    /// This process's private queue on the control exchange.
    let controlQueue: String
    /// Sinks each stream gets besides its response queue.
    /// `sinks.default`: what every answer goes to besides its response queue.
    let sinks: SinkCatalog
    let state: Mutex<State>

    public init(
        configuration: RabbitMQIngressConfiguration, connection connectionConfiguration: AMQPConnectionConfiguration,
        pipeline: Pipeline, sinks: SinkCatalog = .none, logger: Logger
    ) throws(AMQPError) {
        self.configuration = configuration
        self.sinks = sinks
        self.pipeline = pipeline
        self.logger = logger
        state = Mutex(State(answered: CompletedStreams(retention: pipeline.configuration.retention)))
        decoder = PromptDecoder(
            maxMessageBytes: configuration.maxMessageBytes, responseQueuePrefix: configuration.responseQueuePrefix)
        controlQueue = "\(configuration.controlExchange).\(Self.hostName()).\(getpid()).\(StreamID.generateEpoch())"
        connection = try AMQPConnection(
            configuration: connectionConfiguration, topology: Self.topology(configuration, controlQueue: controlQueue),
            logger: logger)
        pipeline.observeCapacity { [weak self] in self?.startWaiting() }
    }

    /// What every session declares: the prompt queue as chatgpt-queue declared it (durable, no
    /// arguments, so clients that declare it too keep working), the dead-letter exchange and
    /// queue, and the control exchange with this process's own queue on it.
    static func topology(_ configuration: RabbitMQIngressConfiguration, controlQueue: String) -> AMQPTopology {
        let dead = configuration.deadLetterName
        let timeout = configuration.consumerTimeout
        let timeoutMilliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        return AMQPTopology(
            exchanges: [
                AMQPExchangeDeclaration(name: dead, type: "fanout"),
                AMQPExchangeDeclaration(name: configuration.controlExchange, type: "fanout"),
            ],
            queues: [
                AMQPQueueDeclaration(name: configuration.queue, durable: true),
                AMQPQueueDeclaration(name: dead, durable: true),
                AMQPQueueDeclaration(name: controlQueue, durable: false, exclusive: true, autoDelete: true),
            ],
            bindings: [
                AMQPBinding(queue: dead, exchange: dead),
                AMQPBinding(queue: controlQueue, exchange: configuration.controlExchange),
            ],
            prefetch: configuration.prefetch,
            consumers: [
                // RabbitMQ 3.12+ applies this per-consumer acknowledgement timeout; older brokers
                // ignore the argument and keep their global consumer_timeout.
                AMQPConsumer(
                    queue: configuration.queue, tag: promptConsumerTag,
                    arguments: ["x-consumer-timeout": .integer(timeoutMilliseconds)]),
                AMQPConsumer(queue: controlQueue, tag: controlConsumerTag, noAck: true),
            ])
    }

    /// Connects in the background and starts consuming once connected.
    public func start() throws(AMQPError) {
        try connection.start(delegate: self, threadName: "amqp-bridge")
    }

    // MARK: - Shutdown, in the order the bridge calls it

    /// Stops taking prompts: cancels the consumer and hands back the ones waiting for a slot.
    public func stopConsuming() {
        let waiting = state.withLock { state -> [WaitingPrompt] in
            state.consuming = false
            defer { state.waiting = [] }
            return state.waiting
        }
        connection.cancelConsumer(tag: Self.promptConsumerTag)
        for prompt in waiting { connection.reject(prompt.delivery.tag, requeue: true) }
    }

    /// Waits until every prompt taken has been acked or given back (a stream that ended still
    /// waits for the broker to confirm its last messages), for at most `timeout`.
    public func waitUntilSettled(timeout: Duration) async {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.state.withLock { $0.releaseSettlementWaiters() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let settled = state.withLock { state -> Bool in
                if state.inFlight.isEmpty { return true }
                state.settlementWaiters.append(continuation)
                return false
            }
            if settled { continuation.resume() }
        }
        timer.cancel()
    }

    /// After the grace period: prompts still running go back to the queue, and their streams stop
    /// publishing (the next run of each starts over under a new epoch).
    public func requeueUnfinished() {
        let running = state.withLock { state -> [InFlightPrompt] in
            defer { state.inFlight = [:] }
            return Array(state.inFlight.values)
        }
        if !running.isEmpty {
            logger.warning("returning unfinished prompts to the queue", metadata: ["prompts": "\(running.count)"])
        }
        for prompt in running {
            prompt.sink.silence()
            prompt.run?.fail(StreamFailure(code: .requeued, message: "The bridge shut down; the prompt went back to the queue."))
            connection.reject(prompt.delivery.tag, requeue: true)
        }
    }

    /// Closes the connection after letting outstanding publishes and acks go out (up to `timeout`).
    public func shutdown(timeout: Duration) {
        connection.shutdown(timeout: timeout)
    }

    /// Prompts acked yet or not: running, and waiting for a slot.
    public var unfinishedPrompts: Int { state.withLock { $0.inFlight.count + $0.waiting.count } }

    // MARK: - AMQPConnectionDelegate

    public func amqpConnection(_ connection: AMQPConnection, didOpenSession session: UInt64) {
        state.withLock { $0.session = session }
    }

    public func amqpConnection(_ connection: AMQPConnection, didCloseSession session: UInt64, error: AMQPError) {
        let lost = state.withLock { state -> [InFlightPrompt] in
            if state.session == session { state.session = nil }
            let lost = state.inFlight.values.filter { $0.delivery.tag.session == session }
            for prompt in lost { state.inFlight[prompt.prompt.uid] = nil }
            state.waiting.removeAll { $0.delivery.tag.session == session }
            return lost
        }
        guard !lost.isEmpty else { return }
        logger.warning(
            "broker connection lost: running prompts go back to the queue and will be answered again",
            metadata: ["prompts": "\(lost.count)", "error": "\(error)"])
        for prompt in lost {
            prompt.sink.silence()
            prompt.run?.fail(
                StreamFailure(
                    code: .requeued, message: "The broker connection was lost; the prompt went back to the queue."))
        }
    }

    public func amqpConnection(_ connection: AMQPConnection, didChangeBlocked blocked: Bool) {
        state.withLock { state in
            state.brokerBlocked = blocked
            if !blocked {
                // It reads again: whatever hold its falling behind set is moot.
                state.holdUntil = nil
                state.holdBackoff.reset()
            }
        }
        if blocked {
            logger.warning("the broker blocked publishing: new prompts wait until it resumes")
        } else {
            startWaiting()
        }
    }

    public func amqpConnection(_ connection: AMQPConnection, didReceive delivery: AMQPDelivery) {
        if delivery.consumerTag == Self.controlConsumerTag {
            handleControl(delivery)
        } else {
            handlePrompt(delivery)
        }
    }

    // MARK: - DependencyHealth

    public var healthName: String { "rabbitmq" }

    public func healthStatus() -> DependencyStatus {
        let status = connection.status
        let (running, waiting) = state.withLock { ($0.inFlight.count, $0.waiting.count) }
        var details = JSONObject()
        details["state"] = .string(status.state.rawValue)
        details["since_s"] = .number(((ContinuousClock.now - status.since) / .milliseconds(1)).rounded() / 1000)
        details["queue"] = .string(configuration.queue)
        details["sessions"] = .integer(Int64(status.sessionsOpened))
        details["blocked"] = .bool(status.blocked)
        details["prompts_running"] = .integer(Int64(running))
        details["prompts_waiting"] = .integer(Int64(waiting))
        if let error = status.lastError, status.state != .connected { details["error"] = .string("\(error)") }
        return DependencyStatus(isUp: status.state == .connected, details: details)
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "host" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "host" : name
    }
}

extension RabbitMQIngress: MetricsSource {
    public func writeMetrics(to metrics: inout MetricsText) {
        let status = connection.status
        let (running, waiting, sinkFailures) = state.withLock { ($0.inFlight.count, $0.waiting.count, $0.responseSinkFailures) }
        metrics.gauge("tokenbridge_rabbitmq_connected", "1 while the broker connection is up.", status.state == .connected ? 1 : 0)
        metrics.counter("tokenbridge_rabbitmq_sessions_total", "Broker sessions opened (more than one: reconnects).", Double(status.sessionsOpened))
        metrics.gauge("tokenbridge_rabbitmq_prompts_running", "Queue prompts being answered.", Double(running))
        metrics.gauge("tokenbridge_rabbitmq_prompts_waiting", "Queue prompts held back, unacked.", Double(waiting))
        metrics.counter(
            "tokenbridge_rabbitmq_sink_failures_total", "Streams from HTTP whose answer did not all reach its response queue.",
            Double(sinkFailures))
    }
}
