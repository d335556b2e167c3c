import BridgeCore

/// One message in a channel: raw JSON data at an offset. The push frame that carries it to
/// subscribers is encoded once and shared by all of them.
public final class Publication: Sendable {
    public let channel: String
    public let offset: UInt64
    public let tags: [(key: String, value: String)]
    /// For a stream's text delta: what a slow subscriber's backlog needs to merge deltas.
    public let delta: StreamDelta?
    /// Raw JSON, sent as it is (`data` is embedded JSON in protocol v2, never base64). For a
    /// stream's event this is the event's own encoding, the same storage the stream journal keeps.
    public let data: [UInt8]
    /// Built at publish time when the channel has subscribers. Most stream publications are never
    /// pushed to anyone (nobody watches the stream, or only later through recovery, which sends
    /// `data` inside the reply), so they skip the second copy of the bytes.
    private let prebuiltPush: [UInt8]?

    /// `{"push":{"channel":…,"pub":{…}}}`.
    public var push: [UInt8] { prebuiltPush ?? Self.encodePush(channel: channel, data: data, offset: offset, tags: tags) }

    /// What keeping this publication in history costs, for the hub's memory budget: the data and
    /// the push frame if built, plus the object, its arrays and the allocator's share (measured:
    /// 480 to 730 bytes of RSS per retained 170-byte push, when every publication carried one).
    var retainedBytes: Int { data.count + (prebuiltPush?.count ?? 0) + 400 }

    /// - Parameter encodingPush: build the push frame now (there are subscribers to send it to).
    public init(
        channel: String, offset: UInt64, data: [UInt8], tags: [(key: String, value: String)] = [],
        delta: StreamDelta? = nil, encodingPush: Bool = true
    ) {
        self.channel = channel
        self.offset = offset
        self.tags = tags
        self.delta = delta
        self.data = data
        prebuiltPush = encodingPush ? Self.encodePush(channel: channel, data: data, offset: offset, tags: tags) : nil
    }

    private static func encodePush(
        channel: String, data: [UInt8], offset: UInt64, tags: [(key: String, value: String)]
    ) -> [UInt8] {
        // The frame's own keys and braces take 52 bytes; an offset at most 20 digits.
        var writer = JSONWriter(capacity: data.count + channel.utf8.count + 80 + tags.count * 32)
        writer.beginObject()
        writer.key("push")
        writer.beginObject()
        writer.key("channel")
        writer.string(channel)
        writer.key("pub")
        writeBody(data: data, offset: offset, tags: tags, to: &writer)
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }

    /// The publication object as replies and the history API show it.
    public func write(to writer: inout JSONWriter) {
        Self.writeBody(data: data, offset: offset, tags: tags, to: &writer)
    }

    /// Writes `{"data":…,"offset":…,"tags":…}`.
    private static func writeBody(
        data: [UInt8], offset: UInt64, tags: [(key: String, value: String)], to writer: inout JSONWriter
    ) {
        writer.beginObject()
        writer.key("data")
        writer.raw(data)
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
    }
}

/// One event of a stream as `ChannelHub.publishStream` takes it: offset = seq.
public struct StreamPublication: Sendable {
    public var seq: UInt64
    public var data: [UInt8]
    public var delta: StreamDelta?

    public init(seq: UInt64, data: [UInt8], delta: StreamDelta? = nil) {
        self.seq = seq
        self.data = data
        self.delta = delta
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
