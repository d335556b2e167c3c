extension BridgeConfiguration {
    /// The one HTTP/WebSocket port: bind address, static files, who may call, request limits.
    public struct Server: Sendable, Equatable {
        /// Interface to bind; `0.0.0.0` listens on every IPv4 interface.
        public var host: String
        /// TCP port for HTTP, SSE and WebSocket alike.
        public var port: Int
        /// Directory served at `/`; empty serves no static files.
        public var webRoot: String
        /// Bearer keys accepted on `/v1/*`; empty turns authentication off.
        public var apiKeys: [String]
        /// CORS origins allowed on HTTP routes; `*` allows any.
        public var allowedOrigins: [String]
        /// Gap after which an SSE comment line is sent while the model is silent, so proxies keep the connection.
        public var sseKeepalive: Duration
        public var limits: Limits

        /// Defaults are the documented `server` section.
        public init(
            host: String = "0.0.0.0", port: Int = 8080, webRoot: String = "web", apiKeys: [String] = [],
            allowedOrigins: [String] = ["*"], sseKeepalive: Duration = .seconds(15), limits: Limits = Limits()
        ) {
            self.host = host
            self.port = port
            self.webRoot = webRoot
            self.apiKeys = apiKeys
            self.allowedOrigins = allowedOrigins
            self.sseKeepalive = sseKeepalive
            self.limits = limits
        }
    }
}

extension BridgeConfiguration.Server {
    /// Request size limits, checked before a request reaches a route.
    public struct Limits: Sendable, Equatable {
        /// Bodies over this are refused with 413.
        public var maxBodyBytes: Int
        /// Header sections over this are refused with 431.
        public var maxHeaderBytes: Int
        /// Output queued for one HTTP response (a client reading slower than the model writes);
        /// past it the client is disconnected and its stream cancelled.
        public var maxPendingBytes: Int

        /// Defaults are the documented `server.limits` section.
        public init(maxBodyBytes: Int = 1 << 20, maxHeaderBytes: Int = 16 * 1024, maxPendingBytes: Int = 8 << 20) {
            self.maxBodyBytes = maxBodyBytes
            self.maxHeaderBytes = maxHeaderBytes
            self.maxPendingBytes = maxPendingBytes
        }
    }
}
