import BridgeCore
import Testing

@testable import Bench

@Suite("Egress bench report")
struct EgressBenchReportTests {
    static let options = EgressBenchOptions(
        url: "http://127.0.0.1:1/v1", egresses: [.sse, .ws, .amqp], streams: 2, tokens: 10, subscribersPerStream: 3,
        length: .rounds(1))

    /// Two streams of 10 tokens read by the SSE, 3 subscribers each and the queue, all complete.
    static func cleanCounters() -> EgressLoad.Counters {
        var counters = EgressLoad.Counters()
        counters.started = 2
        counters.completed = 2
        for (egress, readers) in [(Egress.sse, 2), (.ws, 6), (.amqp, 2)] {
            var tally = EgressTally()
            for _ in 0..<readers { tally.record(ObservedRun(tokens: 10), expectedTokens: 10, streamStarted: true) }
            counters.egress[egress] = tally
        }
        return counters
    }

    static func report(_ counters: EgressLoad.Counters) -> EgressBenchReport {
        var histograms = EgressHistograms()
        for value: Int64 in [1_000, 2_000, 3_000] { histograms.timeToFirstToken.record(value) }
        return EgressBenchReport(
            options: options,
            .init(
                counters: counters, histograms: [.sse: histograms, .ws: histograms], window: .seconds(1), windowCompleted: 2,
                windowTokens: [.sse: 20, .ws: 60, .amqp: 20], runTime: .seconds(1), target: nil, benchCPU: nil))
    }

    @Test func aCleanRunHasOneLinePerEgressAndPasses() throws {
        let report = Self.report(Self.cleanCounters())
        #expect(report.isClean)
        #expect(report.lines.map(\.egress) == [.sse, .ws, .amqp])
        #expect(report.lines.map(\.expectedTokens) == [20, 60, 20])
        let json = try JSONParser.parse(report.json).objectValue
        let ws = json?["egress"]?.objectValue?["ws"]?.objectValue
        #expect(ws?["tokens"] == .integer(60) && ws?["lost_tokens"] == .integer(0))
        #expect(ws?["ttft_ms"]?.objectValue?["p50"]?.doubleValue == 2)
        #expect(json?["ttft_ms"]?.objectValue?["p99"]?.doubleValue == 3)  // the first egress's, as before
        #expect(json?["clean"] == .bool(true))
        #expect(report.text.contains("verdict   clean"))
    }

    @Test(arguments: [Egress.sse, .ws, .amqp])
    func aLostDuplicatedOrReorderedTokenOnAnyEgressFailsTheVerdict(egress: Egress) {
        for damage in 0..<3 {
            var counters = Self.cleanCounters()
            var run = ObservedRun(tokens: 10)
            switch damage {
            case 0: run.tokens = 9
            case 1: run.duplicated = 1
            default: run.outOfOrder = 1
            }
            counters.egress[egress]?.record(run, expectedTokens: 10, streamStarted: true)
            let report = Self.report(counters)
            #expect(!report.isClean, "damage \(damage) on \(egress)")
            #expect(report.text.contains("NOT clean"))
        }
    }

    @Test func aRunThatNeverStartedOrWasRefusedIsNotClean() {
        #expect(!Self.report(EgressLoad.Counters()).isClean)
        var refused = Self.cleanCounters()
        refused.fatal = "HTTP 400: sink_unavailable"
        #expect(!Self.report(refused).isClean)
        #expect(Self.report(refused).text.contains("sink_unavailable"))
    }
}
