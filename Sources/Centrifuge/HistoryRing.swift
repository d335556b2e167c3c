/// The last `capacity` publications of a channel, oldest first.
struct HistoryRing {
    let capacity: Int
    private var storage: [Publication] = []
    /// Index of the oldest element once the ring is full.
    private var head = 0
    /// `retainedBytes` of everything held.
    private(set) var bytes = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { storage.count }
    var isEmpty: Bool { storage.isEmpty }

    mutating func append(_ publication: Publication) {
        guard capacity > 0 else { return }
        bytes += publication.retainedBytes
        if storage.count < capacity {
            storage.append(publication)
        } else {
            bytes -= storage[head].retainedBytes
            storage[head] = publication
            head = (head + 1) % capacity
        }
    }

    mutating func removeAll() {
        storage = []
        head = 0
        bytes = 0
    }

    /// Oldest first.
    var all: [Publication] {
        guard head > 0 else { return storage }
        return Array(storage[head...] + storage[..<head])
    }

    var first: Publication? { storage.isEmpty ? nil : storage[head] }

    /// Publications with an offset above `offset`, oldest first.
    func after(_ offset: UInt64) -> [Publication] {
        let ordered = all
        // Offsets rise through the ring.
        return Array(ordered[ordered.partitionIndex { $0.offset > offset }...])
    }
}
