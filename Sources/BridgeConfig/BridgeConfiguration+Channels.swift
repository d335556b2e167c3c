extension BridgeConfiguration {
    /// The embedded channel server: Centrifugo client protocol on `/connection/websocket`, server API on `/api`.
    public struct Channels: Sendable, Equatable {
        /// A stream's channel is this plus its id.
        public var prefix: String
        /// Key for the Centrifugo-compatible server API (`X-API-Key`); empty leaves `/api` open.
        public var apiKey: String
        /// Server pings so dead connections are noticed and proxies keep live ones.
        public var pingInterval: Duration
        /// Publications kept per channel for recovery.
        public var historySize: Int
        /// How long a channel's history outlives its last publication.
        public var historyTTL: Duration
        /// Who may connect and subscribe.
        public var auth: Auth
        /// Origins allowed to open a WebSocket; `*` allows any.
        public var allowedOrigins: [String]

        /// Defaults are the documented `channels` section.
        public init(
            prefix: String = "stream_", apiKey: String = "", pingInterval: Duration = .seconds(25),
            historySize: Int = 10_000,
            historyTTL: Duration = .seconds(600), auth: Auth = Auth(), allowedOrigins: [String] = ["*"]
        ) {
            self.prefix = prefix
            self.apiKey = apiKey
            self.pingInterval = pingInterval
            self.historySize = historySize
            self.historyTTL = historyTTL
            self.auth = auth
            self.allowedOrigins = allowedOrigins
        }
    }
}

extension BridgeConfiguration.Channels {
    /// Who may connect and subscribe.
    public struct Auth: Sendable, Equatable {
        /// How connections are authenticated.
        public enum Mode: String, Sendable, CaseIterable {
            /// Anyone may connect and subscribe; for demos and trusted networks.
            case insecure
            /// Connections need an HS256 JWT signed with `hmacSecret`.
            case token
        }

        public var mode: Mode
        /// HS256 secret for connection and subscription tokens.
        public var hmacSecret: String
        /// Let clients subscribe to stream channels without a subscription token, since the random
        /// stream id already acts as a capability.
        public var allowAnonymousStreams: Bool

        /// Defaults are the documented `channels.auth` section.
        public init(mode: Mode = .insecure, hmacSecret: String = "", allowAnonymousStreams: Bool = true) {
            self.mode = mode
            self.hmacSecret = hmacSecret
            self.allowAnonymousStreams = allowAnonymousStreams
        }
    }
}
