/// How to reach an OpenAI-compatible model server and how patiently.
public struct UpstreamConfiguration: Sendable {
    /// Base URL; the bridge POSTs `{url}/chat/completions` and GETs `{url}/models`.
    public var url: String
    /// Sent as `Authorization: Bearer` when not empty.
    public var apiKey: String
    public var connectTimeout: Duration
    /// From starting an attempt (connecting included) to the first content, reasoning or tool-call token.
    public var firstTokenTimeout: Duration
    /// The longest silence between two tokens once the answer has started.
    public var idleTimeout: Duration
    /// The whole call, every retry included.
    public var totalTimeout: Duration
    /// Extra attempts after a connect failure, 429 or 5xx, only while no token was delivered.
    public var retries: Int
    public var retryBackoff: Duration
    public var retryBackoffMax: Duration

    public init(
        url: String, apiKey: String = "", connectTimeout: Duration = .seconds(10),
        firstTokenTimeout: Duration = .seconds(120), idleTimeout: Duration = .seconds(60),
        totalTimeout: Duration = .seconds(1800), retries: Int = 2, retryBackoff: Duration = .milliseconds(500),
        retryBackoffMax: Duration = .seconds(10)
    ) {
        self.url = url
        self.apiKey = apiKey
        self.connectTimeout = connectTimeout
        self.firstTokenTimeout = firstTokenTimeout
        self.idleTimeout = idleTimeout
        self.totalTimeout = totalTimeout
        self.retries = retries
        self.retryBackoff = retryBackoff
        self.retryBackoffMax = retryBackoffMax
    }

    var baseURL: String {
        var trimmed = url
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    var chatCompletionsURL: String { baseURL + "/chat/completions" }
    var modelsURL: String { baseURL + "/models" }

    var authorizationHeaders: [(name: String, value: String)] {
        apiKey.isEmpty ? [] : [("Authorization", "Bearer \(apiKey)")]
    }
}
