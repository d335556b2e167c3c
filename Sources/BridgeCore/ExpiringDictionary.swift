/// A dictionary whose entries leave `ttl` after they were stored, and, beyond `capacity`, oldest
/// first: the memory of recent things (finished streams, dropped channels) without unbounded
/// growth.
public struct ExpiringDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    public let ttl: Duration
    public let capacity: Int
    private var entries: [Key: (value: Value, at: ContinuousClock.Instant)] = [:]
    /// Storage order, for expiry; a key stored again or removed is skipped when its old slot
    /// comes up.
    private var order: [(key: Key, at: ContinuousClock.Instant)] = []
    private var oldest = 0

    public init(ttl: Duration, capacity: Int = 100_000) {
        self.ttl = ttl
        self.capacity = max(1, capacity)
    }

    public var count: Int { entries.count }

    /// Stores `value` (nothing when `ttl` is zero: remembering is off).
    public mutating func store(_ key: Key, _ value: Value, at now: ContinuousClock.Instant) {
        guard ttl > .zero else { return }
        prune(now: now)
        entries[key] = (value, now)
        order.append((key, now))
        while entries.count > capacity { dropOldest() }
        // Keys stored and removed over and over leave stale slots behind: rebuild the order from
        // the live entries before it outgrows them by much.
        if order.count - oldest > 2 * capacity {
            order = entries.map { ($0.key, $0.value.at) }.sorted { $0.at < $1.at }
            oldest = 0
        }
    }

    /// The value of `key` unless it expired by `now`.
    public func value(_ key: Key, now: ContinuousClock.Instant) -> Value? {
        guard let entry = entries[key], now - entry.at < ttl else { return nil }
        return entry.value
    }

    /// Takes the value of `key` out, unless it expired by `now`.
    public mutating func removeValue(_ key: Key, now: ContinuousClock.Instant) -> Value? {
        prune(now: now)
        return entries.removeValue(forKey: key)?.value
    }

    private mutating func prune(now: ContinuousClock.Instant) {
        while oldest < order.count, now - order[oldest].at >= ttl { dropOldest() }
        // Reclaim the consumed front now and then rather than shifting the array every time.
        if oldest > 1024, oldest * 2 > order.count {
            order.removeFirst(oldest)
            oldest = 0
        }
    }

    private mutating func dropOldest() {
        guard oldest < order.count else { return }
        let slot = order[oldest]
        oldest += 1
        if entries[slot.key]?.at == slot.at { entries[slot.key] = nil }
    }
}
