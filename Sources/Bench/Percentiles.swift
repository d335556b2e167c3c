import BridgeCore

/// The percentiles a report shows, read from an `HdrHistogram` of microseconds: within 1/1024 of
/// the exact nearest-rank values (never below them), the maximum exact.
public struct Percentiles: Sendable, Equatable {
    public var count: Int
    public var p50: Duration
    public var p90: Duration
    public var p99: Duration
    public var p999: Duration
    public var max: Duration
    /// Samples outside the histogram's range (below 0 or above an hour), clamped to it.
    public var outOfRange: Int

    /// Nil for an empty histogram: there is no percentile of nothing.
    public init?(_ microseconds: HdrHistogram) {
        guard !microseconds.isEmpty else { return nil }
        count = Int(clamping: microseconds.totalCount)
        let at = { (percent: Double) in Duration.microseconds(microseconds.value(atPercentile: percent)) }
        p50 = at(50)
        p90 = at(90)
        p99 = at(99)
        p999 = at(99.9)
        max = .microseconds(microseconds.max)
        outOfRange = Int(clamping: microseconds.outOfRange)
    }

    /// `{"count","p50","p90","p99","p999","max","out_of_range"}` in milliseconds: the shape every
    /// report uses (scripts read `p50`, `p99`, `max`; `p999` and `out_of_range` came later).
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("count")
        writer.int(count)
        for (key, value) in [("p50", p50), ("p90", p90), ("p99", p99), ("p999", p999), ("max", max)] {
            writer.key(key)
            writer.double(BenchReport.rounded(value.milliseconds))
        }
        writer.key("out_of_range")
        writer.int(outOfRange)
        writer.endObject()
    }

    /// `p50 1.23 ms  p90 …  p99 …  p99.9 …  max …`, for the text reports.
    var text: String {
        "p50 \(BenchReport.ms(p50))  p90 \(BenchReport.ms(p90))  p99 \(BenchReport.ms(p99))  "
            + "p99.9 \(BenchReport.ms(p999))  max \(BenchReport.ms(max))"
    }
}
