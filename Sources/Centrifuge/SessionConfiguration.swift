/// How client sessions behave (the `channels` section).
public struct SessionConfiguration: Sendable {
    /// Seconds between server pings, announced in the connect reply.
    public var pingInterval: Duration
    /// A ping without a pong this long after it closes the connection (3012).
    public var pongTimeout: Duration
    /// A connection that sends no `connect` this long after opening is closed (3502).
    public var connectTimeout: Duration
    /// Subscriptions one connection may hold (more: error 106).
    public var maxSubscriptions: Int
    /// Queued output per connection: past `maxQueuedBytes` or `maxQueuedMessages` the client is
    /// too slow and is closed (3008); past half of either, text deltas of a channel merge.
    public var maxQueuedBytes: Int
    public var maxQueuedMessages: Int
    /// Replies and pushes are batched into frames of about this size.
    public var frameBytes: Int
    /// Server version string in the connect reply.
    public var serverVersion: String
    /// After a connection token expires, how long the client has to `refresh` before it is
    /// closed (3005); after a subscription token expires, how long it has to `sub_refresh`
    /// before the subscription ends (unsubscribe 2501, the SDKs subscribe again with a new token).
    public var expiredCloseDelay: Duration

    public init(
        pingInterval: Duration = .seconds(25), pongTimeout: Duration = .seconds(8), connectTimeout: Duration = .seconds(10),
        maxSubscriptions: Int = 128, maxQueuedBytes: Int = 4 << 20, maxQueuedMessages: Int = 20_000,
        frameBytes: Int = 64 << 10, serverVersion: String = "tokenbridge", expiredCloseDelay: Duration = .seconds(25)
    ) {
        self.pingInterval = pingInterval
        self.pongTimeout = pongTimeout
        self.connectTimeout = connectTimeout
        self.maxSubscriptions = maxSubscriptions
        self.maxQueuedBytes = maxQueuedBytes
        self.maxQueuedMessages = maxQueuedMessages
        self.frameBytes = frameBytes
        self.serverVersion = serverVersion
        self.expiredCloseDelay = expiredCloseDelay
    }
}
