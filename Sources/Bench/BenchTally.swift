/// Everything counted about a run's streams, updated as each one ends.
struct BenchTally: Sendable {
    var started = 0
    var inFlight = 0
    var stopped = false
    /// Streams that ended without a failure (counted even if short: `incomplete` says so).
    var completed = 0
    var failed = 0
    /// Streams still in flight when the drain time ran out (also in `failed`).
    var stalled = 0
    var incomplete = 0
    var lostTokens = 0
    var extraTokens = 0
    /// Content deltas of every ended stream (the live total is `LoadGenerator.tokensReceived`).
    var deltas = 0
    /// Failures by cause: how often, and the first stream's specifics as an example.
    var failures: [String: FailureSummary] = [:]
    /// Microseconds from request start to the first content delta, per stream.
    var timeToFirstToken = HdrHistogram()
    /// Per stamped token, microseconds from the model to arrival.
    var tokenLatencies = HdrHistogram()
    var outOfOrder = 0
    var lastEnd: ContinuousClock.Instant?

    mutating func record(_ outcome: StreamOutcome, expectedTokens: Int, at now: ContinuousClock.Instant) {
        inFlight -= 1
        deltas += outcome.deltas
        lastEnd = now
        if let ttft = outcome.timeToFirstToken { timeToFirstToken.record(ttft) }
        for latency in outcome.tokenLatencies { tokenLatencies.record(Int64(latency)) }
        outOfOrder += outcome.outOfOrder
        lostTokens += outcome.lostTokens(expected: expectedTokens)
        extraTokens += outcome.extraTokens(expected: expectedTokens)
        if outcome.isIncomplete(expected: expectedTokens) { incomplete += 1 }
        if let failure = outcome.failure {
            failed += 1
            if outcome.stalled { stalled += 1 }
            let key = String(failure.prefix { $0 != "\n" }.prefix(300))
            failures[key, default: FailureSummary(message: key, count: 0, example: outcome.detail)].count += 1
        } else {
            completed += 1
        }
    }

    func mayStart(_ options: BenchOptions) -> Bool {
        guard !stopped else { return false }
        if case .rounds(let rounds) = options.length { return started < rounds * options.streams }
        return true
    }

    /// Nothing in flight and nothing more to start.
    func isFinished(_ options: BenchOptions) -> Bool {
        inFlight == 0 && !mayStart(options)
    }
}

/// One cause of failure in a run.
public struct FailureSummary: Sendable {
    public var message: String
    public var count: Int
    /// The specifics of the first stream that failed this way (stream id, progress, server text).
    public var example: String?

    /// The few most frequent, for a report.
    static func mostFrequent(_ summaries: some Sequence<FailureSummary>) -> [FailureSummary] {
        Array(summaries.sorted { $0.count > $1.count }.prefix(BenchReport.failureLimit))
    }
}
