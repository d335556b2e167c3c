/// The HTTP ingress's settings (the `server` section).
public struct HTTPIngressConfiguration: Sendable {
    /// Bearer keys accepted on `/v1/*`; empty means no authentication.
    public var apiKeys: [String]
    /// Origins allowed by CORS; `*` allows any.
    public var allowedOrigins: [String]
    /// How long an SSE response may stay silent before a comment line is sent.
    public var sseKeepalive: Duration
    /// A stream's channel on the embedded channel server is this plus its uid (`channels.prefix`).
    public var channelPrefix: String
    /// How long `GET /v1/streams/{uid}` waits for a stream that has not started (`pipeline.attach_wait`).
    public var attachWait: Duration

    public init(
        apiKeys: [String] = [], allowedOrigins: [String] = ["*"], sseKeepalive: Duration = .seconds(15),
        channelPrefix: String = "stream_", attachWait: Duration = .seconds(10)
    ) {
        self.apiKeys = apiKeys
        self.allowedOrigins = allowedOrigins
        self.sseKeepalive = sseKeepalive
        self.channelPrefix = channelPrefix
        self.attachWait = attachWait
    }
}
