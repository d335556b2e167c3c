import Centrifuge

/// The embedded channel server's settings (the `channels` section), in the shapes the parts need.
public struct ChannelServerConfiguration: Sendable {
    /// A stream's channel is this plus its uid.
    public var streamPrefix: String
    public var hub: ChannelHub.Configuration
    public var session: SessionConfiguration
    /// Origins allowed to open a WebSocket; `*` allows any.
    public var allowedOrigins: [String]
    /// Open WebSocket connections at most; more get close 3504.
    public var maxConnections: Int
    /// Path of the WebSocket endpoint.
    public var path: String

    public init(
        streamPrefix: String = "stream_", hub: ChannelHub.Configuration = ChannelHub.Configuration(),
        session: SessionConfiguration = SessionConfiguration(), allowedOrigins: [String] = ["*"], maxConnections: Int = 10_000,
        path: String = "/connection/websocket"
    ) {
        self.streamPrefix = streamPrefix
        self.hub = hub
        self.session = session
        self.allowedOrigins = allowedOrigins
        self.maxConnections = maxConnections
        self.path = path
    }
}
