/// A bounded set of names, forgetting the oldest first: the queues a session has declared, so each
/// is declared once per session without the set growing with every stream ever answered. A name
/// that was forgotten is only declared again, which is harmless.
struct RecentNames {
    let capacity: Int
    private var members: Set<String> = []
    private var order: [String] = []
    private var oldest = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func contains(_ name: String) -> Bool { members.contains(name) }

    mutating func insert(_ name: String) {
        guard members.insert(name).inserted else { return }
        if order.count < capacity {
            order.append(name)
        } else {
            members.remove(order[oldest])
            order[oldest] = name
            oldest = (oldest + 1) % capacity
        }
    }

    mutating func remove(_ name: String) {
        members.remove(name)
    }
}
