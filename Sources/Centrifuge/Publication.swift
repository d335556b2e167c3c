import BridgeCore

/// One message in a channel: raw JSON data at an offset. The push frame that carries it to
/// subscribers is encoded once and shared by all of them.
public final class Publication: Sendable {
    public let channel: String
    public let offset: UInt64
    public let tags: [(key: String, value: String)]
    /// For a stream's text delta: what a slow subscriber's backlog needs to merge deltas.
    public let delta: StreamDelta?
    /// `{"push":{"channel":…,"pub":{…}}}`.
    public let push: [UInt8]
    /// Where `data` sits inside `push`: history keeps every publication of a stream for minutes,
    /// so the data is not stored a second time.
    private let dataRange: Range<Int>

    /// Raw JSON, sent as it is (`data` is embedded JSON in protocol v2, never base64).
    public var data: ArraySlice<UInt8> { push[dataRange] }

    /// What keeping this publication in history costs, for the hub's memory budget: the push
    /// bytes plus the object, its array and the allocator's share. The overhead is measured:
    /// 480 to 730 bytes of RSS per retained token publication of a 170-byte push (1000 streams
    /// at once, on a fresh bridge and after runs that kept evicting).
    var retainedBytes: Int { push.count + 400 }

    public init(
        channel: String, offset: UInt64, data: [UInt8], tags: [(key: String, value: String)] = [], delta: StreamDelta? = nil
    ) {
        self.channel = channel
        self.offset = offset
        self.tags = tags
        self.delta = delta
        var writer = JSONWriter(capacity: data.count + channel.utf8.count + 48)
        writer.beginObject()
        writer.key("push")
        writer.beginObject()
        writer.key("channel")
        writer.string(channel)
        writer.key("pub")
        let dataStart = Self.writeBody(data: data, offset: offset, tags: tags, to: &writer)
        writer.endObject()
        writer.endObject()
        push = writer.bytes
        dataRange = dataStart..<dataStart + data.count
    }

    /// The publication object as replies and the history API show it.
    public func write(to writer: inout JSONWriter) {
        Self.writeBody(data: data, offset: offset, tags: tags, to: &writer)
    }

    /// Writes `{"data":…,"offset":…,"tags":…}`; returns where the data starts in the writer's bytes.
    @discardableResult
    private static func writeBody(
        data: some Collection<UInt8>, offset: UInt64, tags: [(key: String, value: String)], to writer: inout JSONWriter
    ) -> Int {
        writer.beginObject()
        writer.key("data")
        writer.raw(data)
        let dataStart = writer.bytes.count - data.count
        if offset > 0 {
            writer.key("offset")
            writer.int(Int(clamping: offset))
        }
        if !tags.isEmpty {
            writer.key("tags")
            writer.beginObject()
            for (key, value) in tags {
                writer.key(key)
                writer.string(value)
            }
            writer.endObject()
        }
        writer.endObject()
        return dataStart
    }
}

/// The text delta a publication carries (seqs `from...to`), and how merged ones are written.
public struct StreamDelta: Sendable, Equatable {
    public var uid: String
    public var from: Int
    public var to: Int
    public var text: String

    public init(uid: String, from: Int, to: Int, text: String) {
        self.uid = uid
        self.from = from
        self.to = to
        self.text = text
    }

    /// This delta followed by `next`, as one publication: data says which seqs it covers.
    func merged(with next: StreamDelta, channel: String) -> Publication {
        let delta = StreamDelta(uid: uid, from: from, to: next.to, text: text + next.text)
        let data = StreamEvent.mergedDeltaJSON(uid: uid, from: delta.from, to: delta.to, text: delta.text)
        return Publication(channel: channel, offset: UInt64(delta.to), data: data, delta: delta)
    }
}
