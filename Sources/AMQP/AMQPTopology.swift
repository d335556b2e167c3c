/// What a connection declares and consumes every time it (re)connects, in this order: exchanges,
/// queues, bindings, then the prefetch and the consumers.
public struct AMQPTopology: Sendable {
    public var exchanges: [AMQPExchangeDeclaration]
    public var queues: [AMQPQueueDeclaration]
    public var bindings: [AMQPBinding]
    /// `basic.qos` prefetch count for the consumers; 0 = unlimited.
    public var prefetch: Int
    public var consumers: [AMQPConsumer]

    public init(
        exchanges: [AMQPExchangeDeclaration] = [], queues: [AMQPQueueDeclaration] = [], bindings: [AMQPBinding] = [],
        prefetch: Int = 0, consumers: [AMQPConsumer] = []
    ) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
        self.prefetch = prefetch
        self.consumers = consumers
    }
}

public struct AMQPExchangeDeclaration: Sendable, Equatable {
    public var name: String
    /// `direct`, `fanout`, `topic`, `headers`.
    public var type: String
    public var durable: Bool

    public init(name: String, type: String, durable: Bool = true) {
        self.name = name
        self.type = type
        self.durable = durable
    }
}

public struct AMQPQueueDeclaration: Sendable, Equatable {
    public var name: String
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    public var arguments: AMQPTable
    /// When the queue already exists with other settings (the broker answers 406), use it as it
    /// is instead of failing: someone else owns its settings.
    public var acceptExisting: Bool
    /// For `ensureQueue`: declare again on a publish this long after the last declaration. A
    /// redeclaration counts as use for `x-expires` (publishing does not), so a queue nobody reads
    /// is not deleted while its messages are still being written.
    public var redeclareAfter: Duration?

    public init(
        name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
        arguments: AMQPTable = AMQPTable(), acceptExisting: Bool = true, redeclareAfter: Duration? = nil
    ) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.arguments = arguments
        self.acceptExisting = acceptExisting
        self.redeclareAfter = redeclareAfter
    }
}

public struct AMQPBinding: Sendable, Equatable {
    public var queue: String
    public var exchange: String
    public var routingKey: String

    public init(queue: String, exchange: String, routingKey: String = "") {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
    }
}

public struct AMQPConsumer: Sendable, Equatable {
    public var queue: String
    /// Identifies the consumer's deliveries; unique per connection.
    public var tag: String
    /// The broker forgets a delivery once sent (no ack): for messages that may be lost.
    public var noAck: Bool
    public var arguments: AMQPTable

    public init(queue: String, tag: String, noAck: Bool = false, arguments: AMQPTable = AMQPTable()) {
        self.queue = queue
        self.tag = tag
        self.noAck = noAck
        self.arguments = arguments
    }
}
