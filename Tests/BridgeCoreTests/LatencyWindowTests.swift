import Testing

@testable import BridgeCore

@Suite("Latency window")
struct LatencyWindowTests {
    @Test func percentilesAreNearestRankOverTheLastSamples() throws {
        var window = LatencyWindow(capacity: 100)
        #expect(window.summary == nil)
        for milliseconds in 1...100 { window.record(.milliseconds(milliseconds)) }
        let full = try #require(window.summary)
        #expect(full.p50 == .milliseconds(50) && full.p99 == .milliseconds(99) && full.count == 100)
        // A hundred more push the first hundred out.
        for milliseconds in 1001...1100 { window.record(.milliseconds(milliseconds)) }
        let recent = try #require(window.summary)
        #expect(recent.p50 == .milliseconds(1050) && recent.count == 100 && window.total == 200)
        #expect(Duration.milliseconds(1500).secondsValue == 1.5)
    }
}
