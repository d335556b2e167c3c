/// Names one delivery on one session: an ack for a delivery of an earlier session would be an
/// unknown tag to the broker (which closes the channel), so acks carry the session and are dropped
/// when it is gone. The broker has already requeued such a delivery.
public struct AMQPDeliveryTag: Sendable, Hashable, CustomStringConvertible {
    public let session: UInt64
    public let value: UInt64

    public init(session: UInt64, value: UInt64) {
        self.session = session
        self.value = value
    }

    public var description: String { "\(session)/\(value)" }
}

/// A message a consumer received.
public struct AMQPDelivery: Sendable {
    public var consumerTag: String
    public var tag: AMQPDeliveryTag
    /// The broker delivered it before, to this or another consumer, without an ack.
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var properties: AMQPProperties
    public var body: [UInt8]

    public init(
        consumerTag: String, tag: AMQPDeliveryTag, redelivered: Bool, exchange: String, routingKey: String,
        properties: AMQPProperties, body: [UInt8]
    ) {
        self.consumerTag = consumerTag
        self.tag = tag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
    }
}

/// A message to publish.
public struct AMQPOutgoingMessage: Sendable {
    /// Empty is the default exchange, where the routing key names the queue.
    public var exchange: String
    public var routingKey: String
    /// Ask the broker to return the message when no queue takes it (the outcome is `.returned`).
    public var mandatory: Bool
    public var properties: AMQPProperties
    public var body: [UInt8]
    /// Declared before the first message to it on each session (remembered per session).
    public var ensureQueue: AMQPQueueDeclaration?
    /// Set for a message whose `message_id` may be missing or shared (a copy of someone else's
    /// message): sent as a header so a return is matched to this publish and no other.
    public var trackingID: String?

    /// The header that carries `trackingID`.
    public static let trackingHeader = "x-tokenbridge-publish-id"

    public init(
        exchange: String = "", routingKey: String, mandatory: Bool = true, properties: AMQPProperties = AMQPProperties(),
        body: [UInt8], ensureQueue: AMQPQueueDeclaration? = nil, trackingID: String? = nil
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.mandatory = mandatory
        self.properties = properties
        self.body = body
        self.ensureQueue = ensureQueue
        self.trackingID = trackingID
    }
}

/// What became of a published message.
public enum AMQPPublishOutcome: Sendable, Equatable {
    /// The broker confirmed it: it is in every queue it was routed to (on disk, for persistent
    /// messages in durable queues).
    case confirmed
    /// No queue took it (mandatory publish); the reply text says why (NO_ROUTE...).
    case returned(String)
    /// The broker nacked it (an internal error in the broker).
    case rejected
    /// It may or may not have reached the broker: the connection or channel went away first, or
    /// it could not be sent at all.
    case failed(AMQPError)

    public var isConfirmed: Bool { self == .confirmed }
}
