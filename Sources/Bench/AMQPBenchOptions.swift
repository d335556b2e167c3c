/// What `tokenbridge bench --ingress amqp` does: prompts through the bridge's queue ingress, or the
/// broker's own ceiling for the same kind of messages.
public struct AMQPBenchOptions: Sendable {
    public enum Mode: String, Sendable {
        /// Prompts to the bridge's queue; answers read from `response_<uid>`, as chatgpt-queue's
        /// clients do (the bench declares each queue, consumes it, deletes it after the answer).
        case responseQueues = "response-queues"
        /// Prompts with `reply_to` one queue of the bench's (the RPC pattern): no queue per prompt.
        case replyTo = "reply-to"
        /// No bridge: publish messages shaped like answer tokens, with publisher confirms, into a
        /// queue and consume them: what the broker itself carries on this machine.
        case brokerCeiling = "broker-ceiling"
        /// No bridge: what response-queues costs the broker by itself. The bench declares, reads
        /// and deletes `response_<uid>` exactly as there, and publishes the answer's messages into it
        /// (with confirms) in place of the bridge.
        case queueCeiling = "queue-ceiling"
    }

    public var url: String
    public var mode: Mode
    /// The bridge's prompt queue.
    public var queue: String
    /// Prompts in flight at once (broker ceiling: unconfirmed messages in flight, times 10).
    public var streams: Int
    /// Tokens each answer must carry (the bridge's simulated model must be set to this many).
    public var tokens: Int
    public var duration: Duration
    /// The bridge, sampled for RSS and CPU.
    public var pid: Int32?
    /// Persistent messages for the broker ceiling, as the bridge's default delivery mode.
    public var persistent: Bool
    /// Connections the bench reads answers on (prompts are spread over them).
    public var connections: Int
    public var showsProgress: Bool

    public init(
        url: String, mode: Mode, queue: String = "chat_incoming", streams: Int = 100, tokens: Int = 100,
        duration: Duration = .seconds(10), pid: Int32? = nil, persistent: Bool = true, connections: Int = 4,
        showsProgress: Bool = true
    ) {
        self.url = url
        self.mode = mode
        self.queue = queue
        self.streams = streams
        self.tokens = tokens
        self.duration = duration
        self.pid = pid
        self.persistent = persistent
        self.connections = connections
        self.showsProgress = showsProgress
    }
}
