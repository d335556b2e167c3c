import BridgeCore

/// When to try a failed upstream call again, and after how long.
struct RetryPolicy: Sendable {
    let retries: Int
    let base: Duration
    let maximum: Duration

    /// Statuses worth another attempt: rate limits and server-side trouble.
    static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 408 || (500...599).contains(status)
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1): exponential with full jitter
    /// in its upper half, capped; a server's `Retry-After` wins when it asks for longer.
    func delay(afterAttempt attempt: Int, retryAfter: Double?) -> Duration {
        let exponent = min(attempt - 1, 16)
        let raw = base * (1 << exponent)
        let capped = min(raw, maximum)
        let jittered = capped * Double.random(in: 0.5...1.0)
        guard let retryAfter, retryAfter > 0 else { return jittered }
        return max(jittered, .milliseconds(Int64(retryAfter * 1000)))
    }

    /// Parses `Retry-After` in seconds (the HTTP-date form is rare from model servers and ignored).
    static func parseRetryAfter(_ value: String?) -> Double? {
        guard let value else { return nil }
        return Double(value.trimmingHeaderWhitespace())
    }
}
