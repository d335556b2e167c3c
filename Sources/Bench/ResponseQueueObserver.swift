import AMQP
import BridgeCore
import Dispatch
import Logging
import Synchronization

/// The RabbitMQ egress of an HTTP-started stream: reads `response_<uid>` as chatgpt-queue's
/// clients do (declared as the bridge declares it, so either may come first; consumed; deleted
/// after the terminal event) and checks every message's seq, text tokens and stamps.
final class ResponseQueueObserver: AMQPConnectionDelegate {
    /// What a reader tells the run, outside any lock here.
    enum Report: Sendable {
        /// The queue is declared and consumed: the stream may start.
        case ready
        case refused(String)
        case ended(ObservedRun)
    }

    private struct Reader {
        let connection: Int
        var observation: StreamObservation
        var consuming = false
    }

    private struct State {
        var readers: [String: Reader] = [:]
        /// Microseconds from the model's stamp to this consumer, per token.
        var latency = HdrHistogram()
    }

    static let queuePrefix = "response_"

    let url: String
    /// Several connections, so the declares and deletes (a broker round trip each, on their
    /// connection's thread) do not limit the run; streams are spread over them by slot.
    let connections: [AMQPConnection]
    private let state = Mutex(State())
    private let openSessions = Atomic<Int>(0)
    /// Text tokens delivered so far, for the progress line and the rates.
    let tokens = Atomic<Int>(0)
    private let idleTimeout: Duration
    /// Who hears the reports (set before the first `watch`).
    private let handler = Mutex<(@Sendable (String, Report) -> Void)?>(nil)

    init(url: String, connections count: Int, idleTimeout: Duration, logger: Logger) throws {
        self.url = url
        self.idleTimeout = idleTimeout
        let parsed = try AMQPURL(parsing: url)
        connections = try (0..<max(1, count)).map { index in
            try AMQPConnection(
                configuration: AMQPConnectionConfiguration(url: parsed, connectionName: "tokenbridge bench egress \(index)"),
                topology: AMQPTopology(), logger: logger)
        }
    }

    func onReport(_ handler: @escaping @Sendable (String, Report) -> Void) {
        self.handler.withLock { $0 = handler }
    }

    private func onEvent(_ uid: String, _ report: Report) {
        handler.withLock { $0 }?(uid, report)
    }

    func begin() throws {
        for (index, connection) in connections.enumerated() {
            try connection.start(delegate: self, threadName: "amqp-egress-\(index)")
        }
    }

    var isOpen: Bool { openSessions.load(ordering: .acquiring) >= connections.count }

    var latency: HdrHistogram { state.withLock { $0.latency } }

    func shutdown() {
        for connection in connections { connection.shutdown(timeout: .seconds(2)) }
    }

    // MARK: - Streams

    /// Declares and consumes `response_<uid>` on the slot's connection; reports `.ready` or `.refused`.
    func watch(uid: String, slot: Int) {
        let index = slot % connections.count
        state.withLock { $0.readers[uid] = Reader(connection: index, observation: StreamObservation(at: Self.now)) }
        // The queue is declared as the bridge declares it by default (durable, 10 min expiry).
        let queue = AMQPQueueDeclaration(name: Self.queuePrefix + uid, durable: true, arguments: ["x-expires": .integer(600_000)])
        connections[index].consume(AMQPConsumer(queue: queue.name, tag: uid, noAck: true), declaring: queue) { [self] error in
            if let error {
                finish(uid, failure: "consuming \(queue.name): \(error)", refused: true)
                return
            }
            let known = state.withLock { state -> Bool in
                guard state.readers[uid] != nil else { return false }
                state.readers[uid]?.consuming = true
                return true
            }
            if known { onEvent(uid, .ready) }
        }
    }

    /// Ends a stream's reading now, as failed for `reason`, unless it already ended.
    func abandon(uid: String, reason: String) {
        finish(uid, failure: reason, refused: false)
    }

    /// Ends, as failed, every stream whose queue has been silent longer than the idle timeout.
    func expireIdle() {
        let now = Self.now
        let limit = UInt64(HdrHistogram.microseconds(idleTimeout)) * 1000
        let idle = state.withLock { state in
            state.readers.filter { now - min(now, $0.value.observation.lastActivityAt) > limit }.map(\.key)
        }
        for uid in idle { finish(uid, failure: "idle: nothing in the response queue for \(limit / 1_000_000_000) s", refused: false) }
    }

    private func finish(_ uid: String, failure: String?, refused: Bool) {
        guard let reader = state.withLock({ $0.readers.removeValue(forKey: uid) }) else { return }
        let connection = connections[reader.connection]
        connection.cancelConsumer(tag: uid)
        connection.deleteQueue(Self.queuePrefix + uid)
        onEvent(uid, refused && failure != nil ? .refused(failure ?? "") : .ended(reader.observation.result(failure: failure)))
    }

    private static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    // MARK: - AMQPConnectionDelegate

    func amqpConnection(_ connection: AMQPConnection, didOpenSession session: UInt64) {
        openSessions.add(1, ordering: .releasing)
    }

    func amqpConnection(_ connection: AMQPConnection, didCloseSession session: UInt64, error: AMQPError) {
        openSessions.subtract(1, ordering: .releasing)
    }

    func amqpConnection(_ connection: AMQPConnection, didReceive delivery: AMQPDelivery) {
        let now = Self.now
        let properties = delivery.properties
        let type = properties.type ?? ""
        let seq = UInt64(clamping: properties.headers["x-seq"]?.integerValue ?? 0)
        let from = properties.headers["x-seq-from"]?.integerValue.map { UInt64(clamping: $0) } ?? seq
        let isText = properties.contentType?.hasPrefix("text/plain") ?? false
        let terminal = ["done", "error", "cancelled"].contains(type) ? type : nil
        let (ended, newTokens) = state.withLock { state -> (Bool, Int) in
            let tag = delivery.consumerTag
            // Changed in place through the dictionary: a copy would copy its seq bitmap per message.
            guard let before = state.readers[tag]?.observation.tokens else { return (false, 0) }
            state.readers[tag]?.observation.note(from: from, to: seq, isDelta: type == "delta", terminal: terminal, at: now)
            let after = state.readers[tag]?.observation.tokens ?? before
            let record = { (sent: UInt64) in
                if sent > 0, sent <= now { state.latency.record(Int64(clamping: (now - sent) / 1000)) }
            }
            // The `text` format's body is the raw token; the `json` format's is the stream event.
            if type == "delta" {
                if isText { TokenStamps.scan(delivery.body, from: 0, record) } else { TokenStamps.scanEvent(delivery.body, record) }
            }
            return (terminal != nil, after - before)
        }
        if newTokens > 0 { tokens.add(newTokens, ordering: .relaxed) }
        if ended { finish(delivery.consumerTag, failure: nil, refused: false) }
    }
}
