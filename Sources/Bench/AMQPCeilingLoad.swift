import AMQP
import BridgeCore
import Glibc
import Logging
import Synchronization

/// The broker's own ceiling for answer-shaped messages on this machine: a publisher with
/// pipelined confirms and a consumer, on two connections (as the bridge and its reader are).
final class AMQPCeilingLoad: AMQPConnectionDelegate {
    private struct State {
        var tally = AMQPBenchTally()
        var starting = true
    }

    let options: AMQPBenchOptions
    let consumer: AMQPConnection
    let publisher: AMQPConnection
    private let queue: String
    private let state = Mutex(State())
    private let openSessions = Atomic<Int>(0)
    private let nextSeq = Atomic<Int>(1)
    private let window: Int

    init(options: AMQPBenchOptions, logger: Logger) throws {
        self.options = options
        queue = "tokenbridge.bench.ceiling.\(StreamID.generateEpoch())"
        window = max(100, options.streams * 10)
        let url = try AMQPURL(parsing: options.url)
        let declaration = AMQPQueueDeclaration(name: queue, durable: true, arguments: ["x-expires": .integer(600_000)])
        consumer = try AMQPConnection(
            configuration: AMQPConnectionConfiguration(url: url, connectionName: "tokenbridge bench ceiling reader"),
            topology: AMQPTopology(queues: [declaration], consumers: [AMQPConsumer(queue: queue, tag: "ceiling", noAck: true)]),
            logger: logger)
        publisher = try AMQPConnection(
            configuration: AMQPConnectionConfiguration(url: url, connectionName: "tokenbridge bench ceiling writer"),
            topology: AMQPTopology(queues: [declaration]), logger: logger)
    }

    var isOpen: Bool { openSessions.load(ordering: .acquiring) >= 2 }

    func begin() throws {
        try consumer.start(delegate: self, threadName: "amqp-ceil-read")
        try publisher.start(delegate: self, threadName: "amqp-ceil-write")
    }

    func fill() {
        for _ in 0..<window { publishNext() }
    }

    func stopStarting() { state.withLock { $0.starting = false } }
    var tally: AMQPBenchTally { state.withLock { $0.tally } }

    /// One message shaped like a bridge answer token: the same properties and a body of the same size.
    private func publishNext() {
        guard state.withLock({ $0.starting }) else { return }
        let seq = nextSeq.wrappingAdd(1, ordering: .relaxed).oldValue
        let uid = "0b3c7f1e-9a4d-4c2b-8f6e-5d1a2b3c4d5e"
        let body = Array(#"{"uid":"\#(uid)","seq":\#(seq),"type":"delta","text":" token","done":false}"#.utf8)
        let properties = AMQPProperties(
            contentType: "application/json",
            headers: ["x-uid": .string(uid), "x-epoch": .string("Xy3kQ9aB"), "x-seq": .integer(Int64(seq))],
            deliveryMode: options.persistent ? .persistent : .transient, correlationID: uid,
            messageID: "\(uid):Xy3kQ9aB:\(seq)", timestamp: UInt64(time(nil)), type: "delta", appID: "tokenbridge")
        publisher.publish(AMQPOutgoingMessage(routingKey: queue, properties: properties, body: body)) { [self] outcome in
            if !outcome.isConfirmed { state.withLock { $0.tally.fail("publish: \(outcome)") } }
            publishNext()
        }
    }

    func amqpConnection(_ connection: AMQPConnection, didOpenSession session: UInt64) {
        openSessions.add(1, ordering: .releasing)
    }

    func amqpConnection(_ connection: AMQPConnection, didCloseSession session: UInt64, error: AMQPError) {}

    func amqpConnection(_ connection: AMQPConnection, didReceive delivery: AMQPDelivery) {
        state.withLock { state in
            state.tally.messages += 1
            state.tally.tokens += 1
        }
    }

    func shutdown() {
        // The reader goes first: deleting its queue under it would cancel it.
        consumer.shutdown(timeout: .zero)
        publisher.deleteQueue(queue)
        publisher.shutdown(timeout: .seconds(2))
    }
}
