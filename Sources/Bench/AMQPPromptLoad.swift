import AMQP
import BridgeCore
import Logging
import Synchronization

/// Keeps N prompts in flight through the bridge's queue ingress and checks every answer: seq
/// 1, 2, 3... without gaps or repeats, exactly `tokens` deltas, then `done`.
final class AMQPPromptLoad: AMQPConnectionDelegate {
    private struct Answer {
        var startedAt: ContinuousClock.Instant
        var connection: Int
        var nextSeq = 1
        var deltas = 0
        var sawFirstDelta = false
    }

    private struct State {
        var answers: [String: Answer] = [:]
        var tally = AMQPBenchTally()
        /// Prompt published to first delta consumed, in microseconds. Apart from `tally`, which the
        /// run copies ten times a second: a copy must not share this buffer while it grows.
        var firstToken = HdrHistogram()
        var starting = true
    }

    let options: AMQPBenchOptions
    /// Several connections, so the bench's own declares and deletes (each a broker round trip on
    /// its connection's thread) are not what limits a run; prompts are spread over them.
    let connections: [AMQPConnection]
    private let replyQueues: [String]
    private let state = Mutex(State())
    private let openSessions = Atomic<Int>(0)
    private let nextConnection = Atomic<Int>(0)

    init(options: AMQPBenchOptions, logger: Logger) throws {
        self.options = options
        let url = try AMQPURL(parsing: options.url)
        var queues: [String] = []
        var connections: [AMQPConnection] = []
        for index in 0..<max(1, options.connections) {
            let replyQueue = "tokenbridge.bench.replies.\(StreamID.generateEpoch())"
            queues.append(replyQueue)
            var topology = AMQPTopology()
            if options.mode == .replyTo {
                topology.queues = [AMQPQueueDeclaration(name: replyQueue, durable: false, exclusive: true, autoDelete: true)]
                topology.consumers = [AMQPConsumer(queue: replyQueue, tag: "replies", noAck: true)]
            }
            connections.append(
                try AMQPConnection(
                    configuration: AMQPConnectionConfiguration(url: url, connectionName: "tokenbridge bench \(index)"),
                    topology: topology, logger: logger))
        }
        replyQueues = queues
        self.connections = connections
    }

    var isOpen: Bool { openSessions.load(ordering: .acquiring) >= connections.count }

    func begin() throws {
        for (index, connection) in connections.enumerated() {
            try connection.start(delegate: self, threadName: "amqp-bench-\(index)")
        }
    }

    /// Called once the connection is up: fills every slot.
    func fill() {
        for _ in 0..<options.streams { launch() }
    }

    func stopStarting() { state.withLock { $0.starting = false } }
    var tally: AMQPBenchTally { state.withLock { $0.tally } }
    var firstTokenLatencies: HdrHistogram { state.withLock { $0.firstToken } }
    var inFlight: Int { state.withLock { $0.answers.count } }

    private func launch() {
        let uid = StreamID.generate()
        let slot = nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue % connections.count
        let go = state.withLock { state -> Bool in
            guard state.starting else { return false }
            state.answers[uid] = Answer(startedAt: .now, connection: slot)
            state.tally.promptsStarted += 1
            return true
        }
        guard go else { return }
        if options.mode == .replyTo {
            publishPrompt(uid, on: slot)
            return
        }
        // The queue is declared as the bridge declares it, so either may come first.
        let queue = AMQPQueueDeclaration(name: "response_\(uid)", durable: true, arguments: ["x-expires": .integer(600_000)])
        connections[slot].consume(AMQPConsumer(queue: queue.name, tag: uid, noAck: true), declaring: queue) { [self] error in
            if let error {
                finish(uid, failure: "consuming the response queue: \(error)")
            } else if options.mode == .queueCeiling {
                publishAnswer(uid, on: slot)
            } else {
                publishPrompt(uid, on: slot)
            }
        }
    }

    /// The queue ceiling: the answer's messages, published by the bench where the bridge would.
    private func publishAnswer(_ uid: String, on slot: Int) {
        let epoch = "Xy3kQ9aB"
        for seq in 1...(options.tokens + 2) {
            let type = seq == 1 ? "start" : seq == options.tokens + 2 ? "done" : "delta"
            let body = Array(#"{"uid":"\#(uid)","seq":\#(seq),"type":"\#(type)","text":" token","done":false}"#.utf8)
            let properties = AMQPProperties(
                contentType: "application/json",
                headers: ["x-uid": .string(uid), "x-epoch": .string(epoch), "x-seq": .integer(Int64(seq))],
                deliveryMode: options.persistent ? .persistent : .transient, correlationID: uid,
                messageID: "\(uid):\(epoch):\(seq)", type: type, appID: "tokenbridge")
            connections[slot].publish(AMQPOutgoingMessage(routingKey: "response_\(uid)", properties: properties, body: body)) {
                [self] outcome in
                if !outcome.isConfirmed { finish(uid, failure: "publishing the answer: \(outcome)") }
            }
        }
    }

    private func publishPrompt(_ uid: String, on slot: Int) {
        var writer = JSONWriter(capacity: 160)
        writer.beginObject()
        writer.key("uid")
        writer.string(uid)
        writer.key("max_tokens")
        writer.int(options.tokens)
        writer.userMessages("Benchmark prompt \(uid)")
        writer.endObject()
        var properties = AMQPProperties(contentType: "application/json", correlationID: uid)
        if options.mode == .replyTo { properties.replyTo = replyQueues[slot] }
        connections[slot].publish(AMQPOutgoingMessage(routingKey: options.queue, properties: properties, body: writer.bytes)) { [self] outcome in
            if !outcome.isConfirmed { finish(uid, failure: "publishing the prompt: \(outcome)") }
        }
    }

    // MARK: - AMQPConnectionDelegate

    func amqpConnection(_ connection: AMQPConnection, didOpenSession session: UInt64) {
        openSessions.add(1, ordering: .releasing)
    }

    func amqpConnection(_ connection: AMQPConnection, didCloseSession session: UInt64, error: AMQPError) {}

    func amqpConnection(_ connection: AMQPConnection, didReceive delivery: AMQPDelivery) {
        let uid = options.mode == .replyTo ? (delivery.properties.correlationID ?? "") : delivery.consumerTag
        let type = delivery.properties.type ?? ""
        let seq = Int(delivery.properties.headers["x-seq"]?.integerValue ?? -1)
        let now = ContinuousClock.now
        let ended = state.withLock { state -> String?? in
            state.tally.messages += 1
            guard var answer = state.answers[uid] else { return .none }
            if seq == answer.nextSeq {
                answer.nextSeq += 1
            } else if seq < answer.nextSeq {
                state.tally.duplicates += 1
            } else {
                state.tally.outOfOrder += 1
                answer.nextSeq = seq + 1
            }
            if type == "delta" {
                answer.deltas += 1
                state.tally.tokens += 1
                if !answer.sawFirstDelta {
                    answer.sawFirstDelta = true
                    state.firstToken.record(now - answer.startedAt)
                }
            }
            state.answers[uid] = answer
            switch type {
            case "done":
                state.tally.lostTokens += max(0, options.tokens - answer.deltas)
                return .some(answer.deltas == options.tokens ? nil : "\(answer.deltas) deltas, expected \(options.tokens)")
            case "error", "cancelled":
                return .some("the answer ended with \(type)")
            default:
                return .none
            }
        }
        if case .some(let failure) = ended { finish(uid, failure: failure) }
    }

    private func finish(_ uid: String, failure: String?) {
        let (slot, again) = state.withLock { state -> (Int?, Bool) in
            guard let answer = state.answers.removeValue(forKey: uid) else { return (nil, false) }
            if let failure { state.tally.fail(failure) } else { state.tally.promptsCompleted += 1 }
            return (answer.connection, state.starting)
        }
        if let slot, options.mode == .responseQueues {
            connections[slot].cancelConsumer(tag: uid)
            connections[slot].deleteQueue("response_\(uid)")
        }
        if again { launch() }
    }
}
