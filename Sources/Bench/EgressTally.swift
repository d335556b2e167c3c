/// What one egress delivered over a run, counted as each reader ends its stream.
struct EgressTally: Sendable {
    /// Readers that ended (a stream read by three subscribers counts three).
    var readers = 0
    /// Readers whose stream ended with `done` and nothing wrong on their side.
    var completed = 0
    var failed = 0
    /// Distinct text tokens delivered.
    var tokens = 0
    /// Tokens the started streams' readers should have had: streams x tokens (x subscribers).
    var expectedTokens = 0
    /// Tokens a started stream should have delivered here and did not.
    var lost = 0
    var duplicated = 0
    var outOfOrder = 0

    mutating func record(_ run: ObservedRun, expectedTokens: Int, streamStarted: Bool) {
        readers += 1
        tokens += run.tokens
        duplicated += run.duplicated
        outOfOrder += run.outOfOrder
        // A stream the bridge never accepted had no tokens to lose.
        if streamStarted {
            self.expectedTokens += expectedTokens
            lost += max(0, expectedTokens - run.tokens)
        }
        if run.failure == nil { completed += 1 } else { failed += 1 }
    }

    var isClean: Bool { failed == 0 && lost == 0 && duplicated == 0 && outOfOrder == 0 }
}

/// The time to first token and per-token latency of one egress, in microseconds.
struct EgressHistograms: Sendable {
    var timeToFirstToken = HdrHistogram()
    var tokenLatency = HdrHistogram()
}
