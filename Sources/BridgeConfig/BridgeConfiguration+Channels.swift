extension BridgeConfiguration {
    /// The embedded channel server: Centrifugo client protocol on `/connection/websocket`, server API on `/api`.
    public struct Channels: Sendable, Equatable {
        /// A stream's channel is this plus its id.
        public var prefix: String
        /// Key for the Centrifugo-compatible server API (`X-API-Key`); empty refuses every call
        /// unless `apiInsecure`.
        public var apiKey: String
        /// The server API needs no key (Centrifugo's `http_api.insecure`).
        public var apiInsecure: Bool
        /// Server pings so dead connections are noticed and proxies keep live ones.
        public var pingInterval: Duration
        /// A ping not answered this long closes the connection (3012).
        public var pongTimeout: Duration
        /// A connection that sends no connect this long after opening is closed (3502).
        public var connectTimeout: Duration
        /// After a connection or subscription token expires, how long the client has to refresh
        /// it before the connection closes (3005) or the subscription ends (unsubscribe 2501).
        public var expiredCloseDelay: Duration
        /// Publications kept per channel for recovery.
        public var historySize: Int
        /// How long a channel's history outlives its last publication.
        public var historyTTL: Duration
        /// How long a channel's position (epoch, top offset) outlives its history, so that a
        /// late recovery is told "not recovered" rather than given an empty stream.
        public var historyMetaTTL: Duration
        /// The most publications one recovering subscribe returns; 0 = `historySize`.
        public var recoveryLimit: Int
        /// History of all channels together at most; beyond it the least recently published
        /// channels lose theirs first.
        public var historyMaxBytes: Int
        /// Open WebSocket connections at most (more: close 3504).
        public var maxConnections: Int
        /// Subscriptions per connection at most (more: error 106).
        public var maxSubscriptions: Int
        /// Output queued for one connection: past half of either bound text deltas merge, past it
        /// the client is closed as too slow (3008).
        public var maxQueuedBytes: Int
        public var maxQueuedMessages: Int
        /// An inbound WebSocket message over this closes the connection (1009).
        public var maxMessageBytes: Int
        /// Namespaces (`ns` of `ns:channel`) clients may publish into; others answer 103.
        public var clientPublishNamespaces: [String]
        /// Who may connect and subscribe.
        public var auth: Auth
        /// Origins allowed to open a WebSocket; `*` allows any.
        public var allowedOrigins: [String]

        /// Defaults are the documented `channels` section.
        public init(
            prefix: String = "stream_", apiKey: String = "", apiInsecure: Bool = false, pingInterval: Duration = .seconds(25),
            pongTimeout: Duration = .seconds(8), connectTimeout: Duration = .seconds(10), expiredCloseDelay: Duration = .seconds(25),
            historySize: Int = 10_000,
            historyTTL: Duration = .seconds(600), historyMetaTTL: Duration = .seconds(86_400), recoveryLimit: Int = 0, historyMaxBytes: Int = 256 << 20, maxConnections: Int = 10_000,
            maxSubscriptions: Int = 128, maxQueuedBytes: Int = 4 << 20, maxQueuedMessages: Int = 20_000,
            maxMessageBytes: Int = 65_536, clientPublishNamespaces: [String] = [], auth: Auth = Auth(),
            allowedOrigins: [String] = ["*"]
        ) {
            self.prefix = prefix
            self.apiKey = apiKey
            self.apiInsecure = apiInsecure
            self.pingInterval = pingInterval
            self.pongTimeout = pongTimeout
            self.connectTimeout = connectTimeout
            self.expiredCloseDelay = expiredCloseDelay
            self.historySize = historySize
            self.historyTTL = historyTTL
            self.historyMetaTTL = historyMetaTTL
            self.recoveryLimit = recoveryLimit
            self.historyMaxBytes = historyMaxBytes
            self.maxConnections = maxConnections
            self.maxSubscriptions = maxSubscriptions
            self.maxQueuedBytes = maxQueuedBytes
            self.maxQueuedMessages = maxQueuedMessages
            self.maxMessageBytes = maxMessageBytes
            self.clientPublishNamespaces = clientPublishNamespaces
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
            /// Connections need a JWT (HS256, HS384 or HS512) signed with `hmacSecret`.
            case token
        }

        public var mode: Mode
        /// HS256 secret for connection and subscription tokens.
        public var hmacSecret: String
        /// Let clients subscribe to stream channels without a subscription token, since the random
        /// stream id already acts as a capability.
        public var allowAnonymousStreams: Bool
        /// When set, tokens must carry this `aud` (or list it).
        public var audience: String
        /// When set, tokens must carry this `iss`.
        public var issuer: String

        /// Defaults are the documented `channels.auth` section.
        public init(
            mode: Mode = .insecure, hmacSecret: String = "", allowAnonymousStreams: Bool = true, audience: String = "",
            issuer: String = ""
        ) {
            self.mode = mode
            self.hmacSecret = hmacSecret
            self.allowAnonymousStreams = allowAnonymousStreams
            self.audience = audience
            self.issuer = issuer
        }
    }
}
