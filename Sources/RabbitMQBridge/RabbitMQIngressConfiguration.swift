import AMQP

/// What the queue ingress and its response-queue sink need (the `ingress.rabbitmq` and
/// `sinks.rabbitmq` sections).
public struct RabbitMQIngressConfiguration: Sendable {
    /// Body of each answer message.
    public enum Format: String, Sendable {
        /// The stream event JSON.
        case json
        /// Raw answer text as chatgpt-queue sent it; other events are empty-bodied markers.
        case text
        /// OpenAI `chat.completion.chunk` JSON.
        case openai
    }

    /// Durable queue the prompts arrive on; its dead-letter exchange and queue are `<queue>.dead`.
    public var queue: String
    /// Unacked prompts at once (`basic.qos`).
    public var prefetch: Int
    /// Larger prompts are dead-lettered unread.
    public var maxMessageBytes: Int
    /// A queue prompt's stream ends before this (with a margin), so its ack beats the broker's timeout.
    public var consumerTimeout: Duration
    /// Fanout exchange for cancel messages.
    public var controlExchange: String
    /// Answers go to `<responseQueuePrefix><uid>` unless the prompt names `reply_to`.
    public var responseQueuePrefix: String
    public var format: Format
    /// `x-expires` of response queues.
    public var queueExpires: Duration
    public var deliveryMode: AMQPProperties.DeliveryMode
    /// Merge consecutive text deltas within this window into one message; zero sends one per event.
    public var coalesceWindow: Duration

    public init(
        queue: String = "chat_incoming", prefetch: Int = 1000, maxMessageBytes: Int = 1 << 20,
        consumerTimeout: Duration = .seconds(1800), controlExchange: String = "tokenbridge.control",
        responseQueuePrefix: String = "response_", format: Format = .json, queueExpires: Duration = .seconds(600),
        deliveryMode: AMQPProperties.DeliveryMode = .persistent, coalesceWindow: Duration = .zero
    ) {
        self.queue = queue
        self.prefetch = prefetch
        self.maxMessageBytes = maxMessageBytes
        self.consumerTimeout = consumerTimeout
        self.controlExchange = controlExchange
        self.responseQueuePrefix = responseQueuePrefix
        self.format = format
        self.queueExpires = queueExpires
        self.deliveryMode = deliveryMode
        self.coalesceWindow = coalesceWindow
    }

    /// Exchange and queue where refused prompts go, with headers saying why.
    public var deadLetterName: String { queue + ".dead" }

    /// How long before the consumer timeout a stream is ended: a tenth of it, at most 30 s.
    var deadlineMargin: Duration { min(.seconds(30), consumerTimeout / 10) }
}
