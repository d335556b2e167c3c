import BridgeCore

/// A run through the bridge that can be set beside the same load straight against the model.
public protocol ComparedRun: Sendable {
    var streamsPerSecond: Double { get }
    /// Tokens per second as one reader of each stream sees them (the SSE's, or the first egress's).
    var tokensPerSecond: Double { get }
    var timeToFirstToken: Percentiles? { get }
    /// Time to first token on each egress, for a run read on several.
    var egressTimeToFirstToken: [(name: String, percentiles: Percentiles?)] { get }
    var isClean: Bool { get }
    var text: String { get }
    var json: String { get }
}

extension BenchReport: ComparedRun {
    public var egressTimeToFirstToken: [(name: String, percentiles: Percentiles?)] { [] }
}

/// The same load through the bridge and straight against the model server: what the bridge
/// costs, as ratios and added time to first token.
public struct BaselineComparison<Bridge: ComparedRun>: Sendable {
    public var bridge: Bridge
    public var baseline: BenchReport

    public init(bridge: Bridge, baseline: BenchReport) {
        self.bridge = bridge
        self.baseline = baseline
    }

    /// Bridge throughput as a share of direct (1 = no cost).
    public var streamsRatio: Double? { Self.ratio(bridge.streamsPerSecond, baseline.streamsPerSecond) }
    public var tokensRatio: Double? { Self.ratio(bridge.tokensPerSecond, baseline.tokensPerSecond) }

    /// Time to first token the bridge adds, at p50 and p99.
    public var addedTimeToFirstToken: (p50: Duration, p99: Duration)? { added(bridge.timeToFirstToken) }

    private func added(_ through: Percentiles?) -> (p50: Duration, p99: Duration)? {
        guard let through, let direct = baseline.timeToFirstToken else { return nil }
        return (through.p50 - direct.p50, through.p99 - direct.p99)
    }

    public var isClean: Bool { bridge.isClean && baseline.isClean }

    public var text: String {
        var lines = ["== through the bridge", bridge.text, "== straight to the model server (baseline)", baseline.text, "== the bridge's cost"]
        let percent = { (value: Double?) in value.map { BenchReport.fixed($0 * 100, 1) + "%" } ?? "n/a" }
        lines.append("  throughput  \(percent(streamsRatio)) of direct streams/s, \(percent(tokensRatio)) of direct tokens/s")
        if bridge.egressTimeToFirstToken.isEmpty, let added = addedTimeToFirstToken {
            lines.append("  TTFT added  p50 \(BenchReport.ms(added.p50))  p99 \(BenchReport.ms(added.p99))")
        }
        for (name, percentiles) in bridge.egressTimeToFirstToken {
            guard let added = added(percentiles) else { continue }
            lines.append("  TTFT added  \(name): p50 \(BenchReport.ms(added.p50))  p99 \(BenchReport.ms(added.p99))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var json: String {
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("bridge")
        writer.raw(Array(bridge.json.utf8.dropLast()))
        writer.key("baseline")
        writer.raw(Array(baseline.json.utf8.dropLast()))
        writer.key("streams_ratio")
        if let streamsRatio { writer.double(streamsRatio) } else { writer.null() }
        writer.key("tokens_ratio")
        if let tokensRatio { writer.double(tokensRatio) } else { writer.null() }
        writer.key("ttft_added_ms")
        Self.write(addedTimeToFirstToken, to: &writer)
        if !bridge.egressTimeToFirstToken.isEmpty {
            writer.key("egress_ttft_added_ms")
            writer.beginObject()
            for (name, percentiles) in bridge.egressTimeToFirstToken {
                writer.key(name)
                Self.write(added(percentiles), to: &writer)
            }
            writer.endObject()
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self) + "\n"
    }

    private static func write(_ added: (p50: Duration, p99: Duration)?, to writer: inout JSONWriter) {
        guard let added else { return writer.null() }
        writer.beginObject()
        writer.key("p50")
        writer.double(added.p50.milliseconds)
        writer.key("p99")
        writer.double(added.p99.milliseconds)
        writer.endObject()
    }

    private static func ratio(_ through: Double, _ direct: Double) -> Double? {
        direct > 0 ? through / direct : nil
    }
}
