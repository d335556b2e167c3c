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

        /// Defaults are the documented `ingress.rabbitmq` section.
        public init(
            enabled: Bool = false, url: String = "amqp://guest:guest@localhost:5672/", queue: String = "chat_incoming",
            prefetch: Int = 0
        ) {
            self.enabled = enabled
            self.url = url
            self.queue = queue
            self.prefetch = prefetch
        }
    }
}
