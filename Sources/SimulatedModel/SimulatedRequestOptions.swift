import BridgeCore

/// The configuration as one request adjusts it: OpenAI's `max_tokens`, `max_completion_tokens` and
/// `seed`, and the bridge's test knobs under `mock` (documented on `SimulatedModel`).
///
/// Knobs of the wrong type are ignored rather than refused: the simulated model is a test tool, and
/// a stray field should not turn into an error the test did not ask for.
struct SimulatedRequestOptions: Sendable {
    var tokens: Int
    var tokensPerSecond: Double
    var reasoning: Bool
    var reasoningTokens: Int
    var maxTokens: Int?
    var seed: UInt64?
    var initialDelay: Duration
    var failAfter: Int?
    /// `mock.stamp`: tokens carry their send time (for benchmarks).
    var stamp: Bool

    init(body: JSONObject, defaults: SimulatedModel.Configuration) {
        let mock = body["mock"]?.objectValue ?? JSONObject()
        tokens = Self.count(mock["tokens"]) ?? Self.clamp(defaults.tokens)
        tokensPerSecond = Self.rate(mock["rate"]) ?? Self.rate(.number(defaults.tokensPerSecond)) ?? 0
        reasoning = mock["reasoning"]?.boolValue ?? defaults.reasoning
        reasoningTokens = Self.count(mock["reasoning_tokens"]) ?? Self.clamp(defaults.reasoningTokens)
        let caps = [body["max_tokens"], body["max_completion_tokens"]].compactMap { Self.count($0) }
        maxTokens = caps.min()
        seed = Self.seed(mock["seed"]) ?? Self.seed(body["seed"])
        let delay = mock["delay_ms"]?.doubleValue.map { min(max($0, 0), 3_600_000) } ?? 0
        initialDelay = .nanoseconds(Int64(delay * 1_000_000))
        failAfter = Self.count(mock["fail_after"])
        stamp = mock["stamp"]?.boolValue ?? false
    }

    /// A token count: a whole number, negatives as 0, at most `SimulatedModel.maximumTokens`.
    private static func count(_ value: JSONValue?) -> Int? {
        guard let value, let double = value.doubleValue, double.isFinite else { return nil }
        return clamp(Int(min(max(double.rounded(.down), 0), Double(SimulatedModel.maximumTokens))))
    }

    private static func clamp(_ count: Int) -> Int {
        min(max(count, 0), SimulatedModel.maximumTokens)
    }

    /// Tokens per second; anything not positive and finite means as fast as possible.
    private static func rate(_ value: JSONValue?) -> Double? {
        guard let rate = value?.doubleValue else { return nil }
        return rate.isFinite && rate > 0 ? rate : 0
    }

    private static func seed(_ value: JSONValue?) -> UInt64? {
        switch value {
        case .integer(let integer): return UInt64(bitPattern: integer)
        case .number(let number) where number.isFinite && number.magnitude < 9.2e18:
            return UInt64(bitPattern: Int64(number.rounded(.towardZero)))
        default: return nil
        }
    }
}
