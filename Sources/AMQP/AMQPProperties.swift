/// The basic-class properties of a message, as Swift values. Absent properties are nil.
public struct AMQPProperties: Sendable, Equatable {
    public enum DeliveryMode: UInt8, Sendable {
        /// Kept in memory only: lost if the broker restarts.
        case transient = 1
        /// Written to disk in a durable queue: survives a broker restart.
        case persistent = 2
    }

    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPTable
    public var deliveryMode: UInt8?
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as text (the AMQP 0-9-1 convention).
    public var expiration: String?
    public var messageID: String?
    /// Seconds since the Unix epoch.
    public var timestamp: UInt64?
    public var type: String?
    public var userID: String?
    public var appID: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: AMQPTable = AMQPTable(),
        deliveryMode: DeliveryMode? = nil, priority: UInt8? = nil, correlationID: String? = nil,
        replyTo: String? = nil, expiration: String? = nil, messageID: String? = nil, timestamp: UInt64? = nil,
        type: String? = nil, userID: String? = nil, appID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode?.rawValue
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
    }
}
