/// How a recent stream ended.
public struct StreamCompletion: Sendable, Equatable {
    public var epoch: String
    /// `done`, `error` or `cancelled`.
    public var terminalType: String
    public var at: ContinuousClock.Instant

    public init(epoch: String, terminalType: String, at: ContinuousClock.Instant) {
        self.epoch = epoch
        self.terminalType = terminalType
        self.at = at
    }
}

/// Streams that reached a terminal event recently: a prompt redelivered after its answer was
/// complete (an ack lost with the connection) is recognised instead of generated again.
///
/// Bounded twice: entries leave after `retention`, and beyond `capacity` the oldest leave first.
public struct CompletedStreams: Sendable {
    public typealias Completion = StreamCompletion

    private var completions: ExpiringDictionary<String, Completion>

    public init(retention: Duration, capacity: Int = 100_000) {
        completions = ExpiringDictionary(ttl: retention, capacity: capacity)
    }

    public var retention: Duration { completions.ttl }
    public var count: Int { completions.count }

    public mutating func record(uid: String, _ completion: Completion) {
        completions.store(uid, completion, at: completion.at)
    }

    public func lookup(_ uid: String, now: ContinuousClock.Instant = .now) -> Completion? {
        completions.value(uid, now: now)
    }
}
