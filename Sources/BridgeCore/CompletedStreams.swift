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

    let retention: Duration
    let capacity: Int
    private var byUID: [String: Completion] = [:]
    /// Insertion order, for expiry; an entry replaced later is skipped when its old slot comes up.
    private var order: [(uid: String, at: ContinuousClock.Instant)] = []
    private var oldest = 0

    public init(retention: Duration, capacity: Int = 100_000) {
        self.retention = retention
        self.capacity = max(1, capacity)
    }

    public var count: Int { byUID.count }

    public mutating func record(uid: String, _ completion: Completion) {
        guard retention > .zero else { return }
        prune(now: completion.at)
        byUID[uid] = completion
        order.append((uid, completion.at))
        while byUID.count > capacity { dropOldest() }
    }

    public mutating func lookup(_ uid: String, now: ContinuousClock.Instant = .now) -> Completion? {
        prune(now: now)
        return byUID[uid]
    }

    private mutating func prune(now: ContinuousClock.Instant) {
        while oldest < order.count, now - order[oldest].at >= retention { dropOldest() }
        // Reclaim the consumed front now and then rather than shifting the array every time.
        if oldest > 1024, oldest * 2 > order.count {
            order.removeFirst(oldest)
            oldest = 0
        }
    }

    private mutating func dropOldest() {
        guard oldest < order.count else { return }
        let entry = order[oldest]
        oldest += 1
        if byUID[entry.uid]?.at == entry.at { byUID[entry.uid] = nil }
    }
}
