extension BridgeConfiguration {
    /// Limits and lifetimes of streams inside the bridge, whatever their ingress and sinks.
    public struct Pipeline: Sendable, Equatable {
        /// Streams generating at once; more are refused with 429 (HTTP) or left in the queue (RabbitMQ).
        public var maxConcurrentStreams: Int
        /// How long a finished stream's events stay readable for resume and late subscribers.
        public var retention: Duration
        /// The retained events of all streams together at most; beyond it the longest finished go.
        public var retentionMaxBytes: Int
        /// How long `GET /v1/streams/{uid}` waits for a stream that has not started yet.
        public var attachWait: Duration
        /// On shutdown, how long in-flight streams may finish before they end with a terminal event.
        public var shutdownGrace: Duration

        /// Defaults are the documented `pipeline` section.
        public init(
            maxConcurrentStreams: Int = 1000, retention: Duration = .seconds(600), retentionMaxBytes: Int = 16 << 20,
            attachWait: Duration = .seconds(10), shutdownGrace: Duration = .seconds(10)
        ) {
            self.maxConcurrentStreams = maxConcurrentStreams
            self.retention = retention
            self.retentionMaxBytes = retentionMaxBytes
            self.attachWait = attachWait
            self.shutdownGrace = shutdownGrace
        }
    }
}
