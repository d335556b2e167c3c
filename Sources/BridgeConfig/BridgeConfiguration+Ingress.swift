extension BridgeConfiguration {
    /// Where prompts come from.
    public struct Ingress: Sendable, Equatable {
        /// Prompts over HTTP.
        public var http: HTTP
        /// Prompts from a RabbitMQ queue.
        public var rabbitmq: RabbitMQ

        /// Defaults are the documented `ingress` section.
        public init(http: HTTP = HTTP(), rabbitmq: RabbitMQ = RabbitMQ()) {
            self.http = http
            self.rabbitmq = rabbitmq
        }
    }
}

extension BridgeConfiguration.Ingress {
    /// Prompts over HTTP (`/v1/chat/completions` and the compatibility routes).
    public struct HTTP: Sendable, Equatable {
        /// Serve the prompt routes; off leaves only streams, channels and static files.
        public var enabled: Bool

        /// Defaults are the documented `ingress.http` section.
        public init(enabled: Bool = true) {
            self.enabled = enabled
        }
    }

    /// Prompts from a RabbitMQ queue, as chatgpt-queue consumed them.
    public struct RabbitMQ: Sendable, Equatable {
        /// Off by default so a machine without a broker starts cleanly.
        public var enabled: Bool
        /// `amqp://` or `amqps://` broker URL (chatgpt-queue's `RABBITMQ_URL`); also used by the response-queue sink.
        public var url: String
        /// Durable queue the prompts arrive on.
        public var queue: String
        /// Unacked prompts held at once; 0 means `pipeline.max_concurrent_streams`.
        public var prefetch: Int
        /// Larger prompts are dead-lettered unread.
        public var maxMessageBytes: Int
        /// The broker's delivery acknowledgement timeout for this consumer (RabbitMQ's
        /// `consumer_timeout`, 30 minutes by default). The bridge asks for it on its consumer
        /// (`x-consumer-timeout`, honoured by RabbitMQ 3.12 and later) and ends a queue prompt's
        /// stream shortly before it, so the prompt is acked instead of taken back and redelivered.
        public var consumerTimeout: Duration
        /// Proposed heartbeat interval; a dead broker is noticed within two of them.
        public var heartbeat: Duration
        /// TCP, TLS and AMQP handshake, and each broker round trip.
        public var connectTimeout: Duration
        /// First wait before reconnecting; doubles up to `reconnectBackoffMax`, with jitter.
        public var reconnectBackoff: Duration
        public var reconnectBackoffMax: Duration
        /// Fanout exchange every bridge binds a private queue to, for `{"uid":…,"action":"cancel"}`.
        public var controlExchange: String
        /// For `amqps://` URLs.
        public var tls: TLS

        /// Defaults are the documented `ingress.rabbitmq` section.
        public init(
            enabled: Bool = false, url: String = "amqp://guest:guest@localhost:5672/", queue: String = "chat_incoming",
            prefetch: Int = 0, maxMessageBytes: Int = 1 << 20, consumerTimeout: Duration = .seconds(1800),
            heartbeat: Duration = .seconds(30), connectTimeout: Duration = .seconds(10),
            reconnectBackoff: Duration = .milliseconds(500), reconnectBackoffMax: Duration = .seconds(30),
            controlExchange: String = "tokenbridge.control", tls: TLS = TLS()
        ) {
            self.enabled = enabled
            self.url = url
            self.queue = queue
            self.prefetch = prefetch
            self.maxMessageBytes = maxMessageBytes
            self.consumerTimeout = consumerTimeout
            self.heartbeat = heartbeat
            self.connectTimeout = connectTimeout
            self.reconnectBackoff = reconnectBackoff
            self.reconnectBackoffMax = reconnectBackoffMax
            self.controlExchange = controlExchange
            self.tls = tls
        }
    }
}

extension BridgeConfiguration.Ingress.RabbitMQ {
    /// TLS for `amqps://` broker URLs.
    public struct TLS: Sendable, Equatable {
        /// PEM bundle of the CAs that may sign the broker's certificate; empty = the system's store.
        public var caFile: String
        /// Client certificate and key (PEM), for brokers that require one.
        public var certFile: String
        public var keyFile: String
        /// Check the broker's certificate chain (turn off only against a throwaway test broker).
        public var verifyPeer: Bool
        /// Check that the certificate names the URL's host.
        public var verifyHostname: Bool

        /// Defaults are the documented `ingress.rabbitmq.tls` section.
        public init(caFile: String = "", certFile: String = "", keyFile: String = "", verifyPeer: Bool = true, verifyHostname: Bool = true) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.verifyPeer = verifyPeer
            self.verifyHostname = verifyHostname
        }
    }
}
