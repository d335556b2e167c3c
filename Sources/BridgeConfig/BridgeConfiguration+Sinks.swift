extension BridgeConfiguration {
    /// A kind of destination for a stream's events.
    public enum SinkName: String, Sendable, CaseIterable {
        /// The embedded channel server (`/connection/websocket`).
        case websocket
        /// A RabbitMQ response queue per stream.
        case rabbitmq
        /// An external Centrifugo, through its HTTP API.
        case centrifugo
    }

    /// Where tokens go: which sinks a stream uses, and how each one publishes.
    public struct Sinks: Sendable, Equatable {
        /// Sinks of a stream whose request names none.
        public var `default`: [SinkName]
        /// Sinks a request may ask for; anything else is refused with 400.
        public var allowed: [SinkName]
        /// The response-queue sink.
        public var rabbitmq: RabbitMQ
        /// The embedded channel sink.
        public var websocket: WebSocket
        /// The external Centrifugo sink.
        public var centrifugo: Centrifugo

        /// Defaults are the documented `sinks` section.
        public init(
            default: [SinkName] = [.websocket], allowed: [SinkName] = [.websocket, .rabbitmq, .centrifugo],
            rabbitmq: RabbitMQ = RabbitMQ(), websocket: WebSocket = WebSocket(), centrifugo: Centrifugo = Centrifugo()
        ) {
            self.default = `default`
            self.allowed = allowed
            self.rabbitmq = rabbitmq
            self.websocket = websocket
            self.centrifugo = centrifugo
        }
    }
}

extension BridgeConfiguration.Sinks {
    /// The response-queue sink: one queue `<prefix><uid>` per stream, one message per event.
    public struct RabbitMQ: Sendable, Equatable {
        /// Body of each message.
        public enum Format: String, Sendable, CaseIterable {
            /// The stream event JSON.
            case json
            /// Raw token text, as chatgpt-queue published it.
            case text
            /// OpenAI `chat.completion.chunk` JSON.
            case openai
        }

        /// Whether answers survive a broker restart.
        public enum DeliveryMode: String, Sendable, CaseIterable {
            /// Written to disk in the durable response queue: an answer waiting for its reader survives.
            case persistent
            /// Memory only: faster, lost if the broker restarts.
            case transient
        }

        /// chatgpt-queue's `response_`; the queue name is this plus the stream id.
        public var responseQueuePrefix: String
        public var format: Format
        /// Idle time after which the broker deletes a response queue nobody reads (`x-expires`).
        public var queueExpires: Duration
        public var deliveryMode: DeliveryMode
        /// Consecutive text deltas within this window go out as one message (`seq_from`/`seq_to`);
        /// zero sends one message per event.
        public var coalesceWindow: Duration
        /// Answer messages waiting for the broker, in bytes: past it (the broker stopped reading, a
        /// resource alarm) answers go back to the queue and new prompts wait, instead of filling memory.
        public var maxPendingBytes: Int

        /// Defaults are the documented `sinks.rabbitmq` section.
        public init(
            responseQueuePrefix: String = "response_", format: Format = .json, queueExpires: Duration = .seconds(600),
            deliveryMode: DeliveryMode = .persistent, coalesceWindow: Duration = .zero, maxPendingBytes: Int = 64 << 20
        ) {
            self.responseQueuePrefix = responseQueuePrefix
            self.format = format
            self.queueExpires = queueExpires
            self.deliveryMode = deliveryMode
            self.coalesceWindow = coalesceWindow
            self.maxPendingBytes = maxPendingBytes
        }
    }

    /// The embedded channel sink; its settings live under `channels`, this section is a placeholder for symmetry.
    public struct WebSocket: Sendable, Equatable {
        /// It has no settings yet.
        public init() {}
    }

    /// The external Centrifugo publisher.
    public struct Centrifugo: Sendable, Equatable {
        /// Shape of the publish API.
        public enum APIStyle: String, Sendable, CaseIterable {
            /// `POST {api_url}/publish` with `X-API-Key` (Centrifugo v5 and later).
            case v5
            /// `POST {api_url}` with `{"method":"publish","params":...}` and `Authorization: apikey`.
            case legacy
        }

        /// HTTP API base, e.g. `http://centrifugo:8000/api`; empty disables the sink.
        public var apiURL: String
        /// Centrifugo's HTTP API key.
        public var apiKey: String
        public var apiStyle: APIStyle
        /// Channel of a stream; `{uid}` is replaced by the stream id.
        public var channelTemplate: String
        /// Events within this window go out in one request.
        public var coalesceWindow: Duration
        /// Consecutive text deltas of a request become one publication (`seq_from`/`seq_to`).
        public var mergeDeltas: Bool
        /// Tries after the first for a failed request.
        public var retries: Int
        /// The first pause before a retry (doubling up to 5 s).
        public var retryBackoff: Duration
        /// One request's whole time.
        public var timeout: Duration
        /// Publications one stream may have waiting; past it the sink gives up on the stream.
        public var maxPendingEvents: Int
        /// When the sink gives up on a stream, end the stream with an error on its other sinks too.
        public var failStream: Bool

        /// Defaults are the documented `sinks.centrifugo` section.
        public init(
            apiURL: String = "", apiKey: String = "", apiStyle: APIStyle = .v5, channelTemplate: String = "stream_{uid}",
            coalesceWindow: Duration = .milliseconds(20), mergeDeltas: Bool = false, retries: Int = 5,
            retryBackoff: Duration = .milliseconds(200), timeout: Duration = .seconds(10), maxPendingEvents: Int = 10_000,
            failStream: Bool = false
        ) {
            self.apiURL = apiURL
            self.apiKey = apiKey
            self.apiStyle = apiStyle
            self.channelTemplate = channelTemplate
            self.coalesceWindow = coalesceWindow
            self.mergeDeltas = mergeDeltas
            self.retries = retries
            self.retryBackoff = retryBackoff
            self.timeout = timeout
            self.maxPendingEvents = maxPendingEvents
            self.failStream = failStream
        }
    }
}
