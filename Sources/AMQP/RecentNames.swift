/// A bounded memory of names and when each was last noted, forgetting the oldest first: the
/// queues a session has declared, so each is declared once per session (or again once its
/// declaration is old) without the memory growing with every stream ever answered. A name that was
/// forgotten is only declared again, which is harmless.
struct RecentNames {
    let capacity: Int
    private var noted: [String: ContinuousClock.Instant] = [:]
    private var order: [String] = []
    private var oldest = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func contains(_ name: String) -> Bool { noted[name] != nil }

    /// When `name` was last noted, if it is remembered.
    func notedAt(_ name: String) -> ContinuousClock.Instant? { noted[name] }

    mutating func insert(_ name: String, at instant: ContinuousClock.Instant = .now) {
        guard noted.updateValue(instant, forKey: name) == nil else { return }
        if order.count < capacity {
            order.append(name)
        } else {
            noted[order[oldest]] = nil
            order[oldest] = name
            oldest = (oldest + 1) % capacity
        }
    }

    mutating func remove(_ name: String) {
        noted[name] = nil
    }
}
