import BridgeCore

/// Where channels stood when they were dropped for having neither history nor subscribers: a
/// channel made again under the same name starts from there, so a late subscriber asking to
/// recover a stream whose history has expired hears "not recovered" instead of "empty stream".
/// Centrifugo keeps this stream metadata for `history_meta_ttl`, far longer than the history.
///
/// Bounded twice: entries leave after `ttl`, and beyond `capacity` the oldest leave first.
struct RetiredPositions {
    struct Position: Sendable {
        var epoch: String
        var top: UInt64
        /// The epoch it had while still empty, under which early subscribers hold their position
        /// (`Channel.State.emptyPriorEpoch`).
        var emptyPriorEpoch: String?
    }

    private var positions: ExpiringDictionary<String, Position>

    init(ttl: Duration, capacity: Int = 100_000) {
        positions = ExpiringDictionary(ttl: ttl, capacity: capacity)
    }

    var count: Int { positions.count }

    mutating func retire(_ name: String, _ position: Position, now: ContinuousClock.Instant) {
        // A channel that never published anything has nothing worth keeping.
        guard position.top > 0 else { return }
        positions.store(name, position, at: now)
    }

    /// The position `name` had, without taking it back (a history query on a dropped channel).
    func position(of name: String, now: ContinuousClock.Instant) -> Position? {
        positions.value(name, now: now)
    }

    /// The position `name` had, once: a channel made from it is live again.
    mutating func takeBack(_ name: String, now: ContinuousClock.Instant) -> Position? {
        positions.removeValue(name, now: now)
    }
}
