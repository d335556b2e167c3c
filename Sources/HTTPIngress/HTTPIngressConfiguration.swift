/// The HTTP ingress's settings (the `server` section).
public struct HTTPIngressConfiguration: Sendable {
    /// Bearer keys accepted on `/v1/*`; empty means no authentication.
    public var apiKeys: [String]
    /// Origins allowed by CORS; `*` allows any.
    public var allowedOrigins: [String]
    /// How long an SSE response may stay silent before a comment line is sent.
    public var sseKeepalive: Duration

    public init(apiKeys: [String] = [], allowedOrigins: [String] = ["*"], sseKeepalive: Duration = .seconds(15)) {
        self.apiKeys = apiKeys
        self.allowedOrigins = allowedOrigins
        self.sseKeepalive = sseKeepalive
    }
}
