/// What one reader (a channel subscriber, a response-queue consumer) saw of one stream run: its
/// seqs, its text tokens, when the first one came, how it ended.
struct StreamObservation: Sendable {
    var check = SequenceCheck()
    /// Events received (a merged delta counts once).
    var events = 0
    /// Distinct text-delta seqs received: the tokens delivered.
    var tokens = 0
    /// Uptime nanoseconds at the first text delta.
    var firstTokenAt: UInt64?
    /// Uptime nanoseconds of the last event, or of the subscription: what an idle timeout counts from.
    var lastActivityAt: UInt64
    /// The terminal event's type once it came: `done`, `error` or `cancelled`.
    var terminal: String?

    init(at now: UInt64) {
        lastActivityAt = now
    }

    /// Notes one event covering seqs `from...to` (a merged delta covers several).
    mutating func note(from: UInt64, to: UInt64, isDelta: Bool, terminal: String?, at now: UInt64) {
        events += 1
        lastActivityAt = now
        let new = check.note(from: from, to: to)
        if isDelta {
            tokens += new
            if firstTokenAt == nil { firstTokenAt = now }
        }
        if let terminal, self.terminal == nil { self.terminal = terminal }
    }

    /// What the run loop is told once the reader is done with this stream.
    func result(failure: String?, connectionLost: Bool = false) -> ObservedRun {
        ObservedRun(
            tokens: tokens, duplicated: check.duplicated, outOfOrder: check.outOfOrder, firstTokenAt: firstTokenAt,
            failure: failure ?? terminal.flatMap { $0 == "done" ? nil : "the stream ended with \($0)" },
            connectionLost: connectionLost)
    }
}

/// One reader's account of one stream, as the run loop tallies it.
struct ObservedRun: Sendable {
    var tokens: Int
    var duplicated: Int
    var outOfOrder: Int
    /// Uptime nanoseconds at the first text delta (the SSE reader reports its time to first token instead).
    var firstTokenAt: UInt64?
    var timeToFirstToken: Duration?
    /// Per stamped token, microseconds from the model to this reader (the SSE reader's; the others
    /// record straight into their egress's histogram).
    var tokenLatencies: [UInt32] = []
    var failure: String?
    /// The reader's connection is gone: its slot cannot start another stream.
    var connectionLost = false

    init(
        tokens: Int = 0, duplicated: Int = 0, outOfOrder: Int = 0, firstTokenAt: UInt64? = nil,
        timeToFirstToken: Duration? = nil, failure: String? = nil, connectionLost: Bool = false
    ) {
        self.tokens = tokens
        self.duplicated = duplicated
        self.outOfOrder = outOfOrder
        self.firstTokenAt = firstTokenAt
        self.timeToFirstToken = timeToFirstToken
        self.failure = failure
        self.connectionLost = connectionLost
    }
}
