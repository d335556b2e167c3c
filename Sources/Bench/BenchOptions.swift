/// What one `tokenbridge bench` run does: the load it offers and how long it keeps it up.
public struct BenchOptions: Sendable {
    /// When the run stops starting new streams.
    public enum Length: Sendable, Equatable {
        /// Each of the `streams` slots runs this many streams one after another.
        case rounds(Int)
        /// New streams start until this much time has passed; the rates are measured over it.
        case duration(Duration)
    }

    /// Base URL of an OpenAI-compatible server, up to and including `/v1`.
    public var url: String
    /// Streaming requests kept in flight at once.
    public var streams: Int
    /// `max_tokens` of each request: the answer length every completed stream must have.
    public var tokens: Int
    public var length: Length
    /// A process (the bridge) whose memory and CPU are sampled during the run.
    public var pid: Int32?
    /// The model name sent in each request.
    public var model: String
    /// A stream that receives nothing for this long is aborted and counted as an error, so one
    /// stalled stream cannot hold its slot (and the run) forever.
    public var idleTimeout: Duration
    /// After the last start, how long in-flight streams get to finish before they are aborted and
    /// reported as stalled.
    public var drainTimeout: Duration
    /// Print a progress line to stderr once per second.
    public var showsProgress: Bool
    /// Ask the simulated model to stamp each token with its send time (`mock.stamp`), for
    /// per-token delivery latency and order; only for a simulated model (mock-llm or the bridge's).
    public var stampsTokens = false

    public init(
        url: String, streams: Int, tokens: Int, length: Length, pid: Int32? = nil,
        model: String = "bench", idleTimeout: Duration = .seconds(30), drainTimeout: Duration = .seconds(30),
        showsProgress: Bool = true
    ) {
        self.url = url
        self.streams = streams
        self.tokens = tokens
        self.length = length
        self.pid = pid
        self.model = model
        self.idleTimeout = idleTimeout
        self.drainTimeout = drainTimeout
        self.showsProgress = showsProgress
    }

    /// `{url}/chat/completions`, tolerating a trailing slash on the base URL.
    var completionsURL: String { BenchRequest.completionsURL(base: url) }
}
