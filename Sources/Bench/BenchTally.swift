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
    /// Failure messages and how often each occurred.
    var failures: [String: Int] = [:]
    var timeToFirstToken: [Duration] = []
    var lastEnd: ContinuousClock.Instant?

    mutating func record(_ outcome: StreamOutcome, expectedTokens: Int, at now: ContinuousClock.Instant) {
        inFlight -= 1
        deltas += outcome.deltas
        lastEnd = now
        if let ttft = outcome.timeToFirstToken { timeToFirstToken.append(ttft) }
        lostTokens += outcome.lostTokens(expected: expectedTokens)
        extraTokens += outcome.extraTokens(expected: expectedTokens)
        if outcome.isIncomplete(expected: expectedTokens) { incomplete += 1 }
        if let failure = outcome.failure {
            failed += 1
            if outcome.stalled { stalled += 1 }
            // Broken streams carry their id and progress and are listed one by one; errors before
            // a response (connect failures, statuses) are grouped by their first line.
            let key = String(failure.prefix { $0 != "\n" }.prefix(400))
            failures[key, default: 0] += 1
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
