/// How the bridge publishes streams into an external Centrifugo (`sinks.centrifugo`).
public struct CentrifugoSinkConfiguration: Sendable {
    public enum APIStyle: String, Sendable {
        /// `POST {api_url}/publish` (one) or `{api_url}/batch` (several), `X-API-Key`: Centrifugo v5 and later.
        case v5
        /// `POST {api_url}` with `{"method":"publish","params":…}` lines, `Authorization: apikey`: v3/v4.
        case legacy
    }

    /// The HTTP API base, e.g. `http://centrifugo:8000/api`.
    public var apiURL: String
    public var apiKey: String
    public var style: APIStyle
    /// A stream's channel; `{uid}` is replaced by the stream id.
    public var channelTemplate: String
    /// Events that arrive within this window go out in one request.
    public var coalesceWindow: Duration
    /// Consecutive text deltas of one request become one publication (`seq_from`/`seq_to`).
    public var mergeDeltas: Bool
    /// Tries after the first one for a request that failed (5xx, `{"error":…}`, timeout, refused).
    public var retries: Int
    /// The first pause before a retry; each next one doubles, up to `retryBackoffMax`.
    public var retryBackoff: Duration
    public var retryBackoffMax: Duration
    /// One request's whole time.
    public var timeout: Duration
    /// Events one stream may have waiting; past it the sink gives up on that stream.
    public var maxPendingEvents: Int
    /// Publications per request at most.
    public var maxBatch: Int

    public init(
        apiURL: String, apiKey: String = "", style: APIStyle = .v5, channelTemplate: String = "stream_{uid}",
        coalesceWindow: Duration = .milliseconds(20), mergeDeltas: Bool = false, retries: Int = 5,
        retryBackoff: Duration = .milliseconds(200), retryBackoffMax: Duration = .seconds(5), timeout: Duration = .seconds(10),
        maxPendingEvents: Int = 10_000, maxBatch: Int = 500
    ) {
        self.apiURL = apiURL
        self.apiKey = apiKey
        self.style = style
        self.channelTemplate = channelTemplate
        self.coalesceWindow = coalesceWindow
        self.mergeDeltas = mergeDeltas
        self.retries = retries
        self.retryBackoff = retryBackoff
        self.retryBackoffMax = retryBackoffMax
        self.timeout = timeout
        self.maxPendingEvents = maxPendingEvents
        self.maxBatch = max(1, maxBatch)
    }

    public func channel(for uid: String) -> String {
        channelTemplate.split(separator: "{uid}", omittingEmptySubsequences: false).joined(separator: uid)
    }

    /// The pause before retry number `attempt` (1 is the first retry).
    func backoff(before attempt: Int) -> Duration {
        var pause = retryBackoff
        for _ in 1..<max(1, attempt) where pause < retryBackoffMax { pause *= 2 }
        return min(pause, retryBackoffMax)
    }
}
