/// Bytes of one response waiting for the socket.
///
/// Sent bytes are skipped by an offset and compacted away only once they are most of the
/// storage: removing each 64 KiB slice from the front of a large backlog moved the whole backlog
/// every time.
struct OutputQueue {
    private var storage: [UInt8] = []
    private var start = 0

    /// Bytes not yet sent.
    var count: Int { storage.count - start }
    var isEmpty: Bool { count == 0 }

    mutating func append(contentsOf bytes: [UInt8]) {
        storage.append(contentsOf: bytes)
    }

    mutating func replace(with bytes: [UInt8]) {
        storage = bytes
        start = 0
    }

    mutating func removeAll() {
        storage = []
        start = 0
    }

    /// Lends the first `count` unsent bytes.
    func withFront<Result>(_ count: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        storage.withUnsafeBytes { bytes in body(UnsafeRawBufferPointer(rebasing: bytes[start..<start + count])) }
    }

    /// Marks the first `count` unsent bytes as sent.
    mutating func consume(_ count: Int) {
        start += count
        if start == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 64 * 1024)
            start = 0
        } else if start > 64 * 1024, start * 2 > storage.count {
            storage.removeFirst(start)
            start = 0
        }
    }
}
