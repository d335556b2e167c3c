/// The ways out of the bridge a benchmark stream can be read on.
public enum Egress: String, Sendable, CaseIterable, Comparable {
    /// The HTTP caller's own SSE response.
    case sse
    /// Subscribers of the embedded channel server's `stream_<uid>`.
    case ws
    /// The RabbitMQ response queue `response_<uid>`.
    case amqp

    /// The request's `sinks` entry that makes the bridge publish here (the SSE needs none).
    var sink: String? {
        switch self {
        case .sse: nil
        case .ws: "websocket"
        case .amqp: "rabbitmq"
        }
    }

    public static func < (lhs: Egress, rhs: Egress) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// `tokenbridge bench --ingress http --egress amqp|all`: streams started over HTTP, each read on
/// every egress asked for at once, every token checked and timed on each.
public struct EgressBenchOptions: Sendable {
    /// `http://host:port/v1` of the bridge.
    public var url: String
    /// Where each stream is read; without `.sse` the request is an asynchronous submit (202).
    public var egresses: Set<Egress>
    /// The broker the bridge publishes answers to, for `.amqp`.
    public var amqpURL: String
    /// Connections the response queues are read on.
    public var amqpConnections: Int
    public var streams: Int
    public var tokens: Int
    /// Channel subscribers per stream, for `.ws`.
    public var subscribersPerStream: Int
    /// Tokens per second per stream (0 = as fast as the simulated model goes).
    public var rate: Double
    public var length: BenchOptions.Length
    public var pid: Int32?
    public var model: String
    /// A reader that hears nothing of its stream this long gives it up.
    public var idleTimeout: Duration
    public var drainTimeout: Duration
    public var showsProgress: Bool
    /// The subscribers' thread spins instead of sleeping (see `FanoutOptions.busyPoll`).
    public var busyPoll: Bool

    public init(
        url: String, egresses: Set<Egress>, amqpURL: String = "amqp://guest:guest@127.0.0.1:5672/", amqpConnections: Int = 4,
        streams: Int = 10, tokens: Int = 100, subscribersPerStream: Int = 1, rate: Double = 0,
        length: BenchOptions.Length = .duration(.seconds(10)), pid: Int32? = nil, model: String = "bench",
        idleTimeout: Duration = .seconds(30), drainTimeout: Duration = .seconds(30), showsProgress: Bool = true,
        busyPoll: Bool = false
    ) {
        self.url = url
        self.egresses = egresses
        self.amqpURL = amqpURL
        self.amqpConnections = amqpConnections
        self.streams = streams
        self.tokens = tokens
        self.subscribersPerStream = subscribersPerStream
        self.rate = rate
        self.length = length
        self.pid = pid
        self.model = model
        self.idleTimeout = idleTimeout
        self.drainTimeout = drainTimeout
        self.showsProgress = showsProgress
        self.busyPoll = busyPoll
    }

    /// The egresses in a fixed order (sse, ws, amqp), for reports.
    var ordered: [Egress] { egresses.sorted() }

    /// Channel subscribers over all slots.
    var subscriberCount: Int { egresses.contains(.ws) ? streams * subscribersPerStream : 0 }
}
