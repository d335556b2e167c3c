/// Exact percentiles of a set of durations (nearest rank over the sorted samples). A run collects
/// at most a few hundred thousand samples, so sorting them all is cheap and nothing is binned.
public struct Percentiles: Sendable, Equatable {
    public var count: Int
    public var p50: Duration
    public var p90: Duration
    public var p99: Duration
    public var max: Duration

    /// Nil for no samples: there is no percentile of nothing.
    public init?(_ samples: [Duration]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        count = sorted.count
        p50 = Self.rank(50, of: sorted)
        p90 = Self.rank(90, of: sorted)
        p99 = Self.rank(99, of: sorted)
        max = sorted[sorted.count - 1]
    }

    /// The smallest sample with at least `percent`% of the samples at or below it.
    static func rank(_ percent: Int, of sorted: [Duration]) -> Duration {
        let position = (percent * sorted.count + 99) / 100
        return sorted[Swift.max(0, Swift.min(sorted.count, position) - 1)]
    }
}
