/// A session's queued output, bounded, batched into frames. Publications are shared with every
/// other subscriber (their push bytes are encoded once); replies are this session's own.
struct OutboundQueue {
    enum Item {
        case line([UInt8])
        case publication(Publication)

        var size: Int {
            switch self {
            case .line(let bytes): return bytes.count + 1
            case .publication(let publication): return publication.push.count + 1
            }
        }
    }

    private var items: [Item] = []
    private var head = 0
    private(set) var bytes = 0

    var count: Int { items.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ item: Item) {
        items.append(item)
        bytes += item.size
    }

    /// A merged publication grows to about this size, then the next one starts: each merge
    /// re-encodes what it holds, under the channel's lock, so its size bounds the publisher's cost.
    static let mergedPublicationBytes = 16 << 10

    /// Appends a text delta, merging it into the last queued one of the same stream when asked
    /// (a client falling behind gets fewer, larger publications covering the same seqs).
    mutating func append(_ publication: Publication, mergingDeltas: Bool) {
        if mergingDeltas, let next = publication.delta, let lastIndex = items.indices.last, lastIndex >= head,
            case .publication(let last) = items[lastIndex], last.channel == publication.channel, let previous = last.delta,
            previous.to + 1 == next.from, last.push.count < Self.mergedPublicationBytes
        {
            let merged = previous.merged(with: next, channel: publication.channel)
            bytes += merged.push.count - last.push.count
            items[lastIndex] = .publication(merged)
            return
        }
        append(.publication(publication))
    }

    /// Up to `limit` bytes of queued lines joined by `\\n` (at least one line, however long).
    mutating func takeFrame(limit: Int) -> [UInt8]? {
        guard !isEmpty else { return nil }
        var frame: [UInt8] = []
        frame.reserveCapacity(min(limit, bytes))
        while head < items.count {
            let item = items[head]
            if !frame.isEmpty, frame.count + item.size > limit { break }
            if !frame.isEmpty { frame.append(UInt8(ascii: "\n")) }
            switch item {
            case .line(let line): frame.append(contentsOf: line)
            case .publication(let publication): frame.append(contentsOf: publication.push)
            }
            bytes -= item.size
            head += 1
        }
        if head == items.count {
            items.removeAll(keepingCapacity: items.count < 256)
            head = 0
        } else if head > 1024, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return frame
    }

    mutating func removeAll() {
        items = []
        head = 0
        bytes = 0
    }
}
