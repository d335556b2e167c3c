/// One stream's events as the journal keeps them: the text of every delta and reasoning event
/// (nearly all of a stream) back to back in one buffer, each other event as it is.
///
/// A token kept as a `StreamEvent` cost about 260 bytes (the event itself, the wire JSON it then
/// carried, which repeats the uid, and the allocator's rounding). Here it costs its text and about
/// 2 bytes. An event is made again when it is read, and its JSON is byte for byte the one it had:
/// the same encoder makes it from the same fields.
struct CompactEvents {
    private enum Kind: UInt8 {
        case delta, reasoning, other
    }

    /// Two bytes per event: its kind, and its text's length in bytes, or `longLength` for a text
    /// that long or longer (its length is then in `longLengths`).
    private var layout: [UInt8] = []
    /// Where the texts stand at every `checkpointInterval`-th event: an event's text is found from
    /// the checkpoint before it, at most that many lengths away.
    private var checkpoints: [UInt32] = []
    private var longLengths: [(position: Int, length: Int)] = []
    private var texts: [UInt8] = []
    /// The events that are not text, with their positions.
    private var others: [(position: Int, event: StreamEvent)] = []
    /// What the other events hold, counted as their JSON's size (their strings are about as much).
    private var otherBytes = 0
    private var firstSeq = 1
    /// Only once the seqs stop running one by one (the pipeline never does that): every seq.
    private var irregularSeqs: [Int]?

    private static let longLength: UInt8 = 255
    private static let checkpointInterval = 64

    var count: Int { layout.count / 2 }
    var isEmpty: Bool { layout.isEmpty }

    /// The memory this holds (capacities, so growth room counts too).
    var byteCount: Int {
        layout.capacity + checkpoints.capacity * 4 + texts.capacity + (irregularSeqs?.capacity ?? 0) * 8
            + longLengths.capacity * MemoryLayout<(position: Int, length: Int)>.stride
            + others.capacity * MemoryLayout<(position: Int, event: StreamEvent)>.stride + otherBytes
    }

    mutating func append(_ event: StreamEvent) {
        let position = count
        if irregularSeqs == nil {
            if position == 0 {
                firstSeq = event.seq
            } else if event.seq != firstSeq + position {
                irregularSeqs = (0..<position).map { firstSeq + $0 }
            }
        }
        irregularSeqs?.append(event.seq)
        if position % Self.checkpointInterval == 0 { checkpoints.append(UInt32(truncatingIfNeeded: texts.count)) }
        switch event.kind {
        // Text offsets are 32-bit: a stream past 4 GiB of text keeps the rest whole.
        case .delta(let text) where texts.count + text.utf8.count <= UInt32.max:
            appendText(text, kind: .delta, at: position)
        case .reasoning(let text) where texts.count + text.utf8.count <= UInt32.max:
            appendText(text, kind: .reasoning, at: position)
        default:
            layout.append(Kind.other.rawValue)
            layout.append(0)
            others.append((position, event))
            otherBytes += Self.estimatedSize(of: event)
        }
    }

    /// About what a kept event that is not text holds: its JSON's size, guessed from its strings
    /// for the start and end every stream has and for tool-call pieces (making their JSON only to
    /// count it cost more than keeping them).
    private static func estimatedSize(of event: StreamEvent) -> Int {
        switch event.kind {
        case .start(let epoch, let model):
            return 96 + event.uid.utf8.count + epoch.utf8.count + model.utf8.count
        case .done(let finishReason, let usage) where (usage?.details.count ?? 0) == 0:
            return 160 + event.uid.utf8.count + finishReason.utf8.count
        case .toolCall(let call):
            // A tool call streams as many small pieces, each one of these.
            return 96 + event.uid.utf8.count + (call.id?.utf8.count ?? 0) + (call.name?.utf8.count ?? 0)
                + call.arguments.utf8.count
        default:
            return event.jsonBytes().count
        }
    }

    private mutating func appendText(_ text: String, kind: Kind, at position: Int) {
        let length = text.utf8.count
        layout.append(kind.rawValue)
        if length < Int(Self.longLength) {
            layout.append(UInt8(length))
        } else {
            layout.append(Self.longLength)
            longLengths.append((position, length))
        }
        texts.append(contentsOf: text.utf8)
    }

    /// Gives back the growth room, once nothing more will be added.
    mutating func shrinkToFit() {
        layout = layout.withUnsafeBufferPointer { Array($0) }
        checkpoints = checkpoints.withUnsafeBufferPointer { Array($0) }
        longLengths = longLengths.withUnsafeBufferPointer { Array($0) }
        texts = texts.withUnsafeBufferPointer { Array($0) }
        others = others.withUnsafeBufferPointer { Array($0) }
        irregularSeqs = irregularSeqs?.withUnsafeBufferPointer { Array($0) }
    }

    func seq(at position: Int) -> Int {
        irregularSeqs?[position] ?? firstSeq + position
    }

    var lastSeq: Int? { isEmpty ? nil : seq(at: count - 1) }

    /// The last event when it is not text (a terminal event always is not).
    var lastOther: StreamEvent? {
        guard let last = others.last, last.position == count - 1 else { return nil }
        return last.event
    }

    /// The position of the first event with a seq above `seq`.
    func position(after seq: Int) -> Int {
        guard let seqs = irregularSeqs else { return min(count, max(0, seq - firstSeq + 1)) }
        return seqs.partitionIndex { $0 > seq }
    }

    func event(at position: Int, uid: String) -> StreamEvent {
        events(in: position..<position + 1, uid: uid)[0]
    }

    /// The events at `range`, made again in order: one walk from the checkpoint before it.
    func events(in range: Range<Int>, uid: String) -> [StreamEvent] {
        guard !range.isEmpty else { return [] }
        var events: [StreamEvent] = []
        events.reserveCapacity(range.count)
        var cursor = TextCursor(of: self, at: range.lowerBound)
        for position in range {
            switch Kind(rawValue: layout[2 * position]) {
            case .delta:
                events.append(StreamEvent(uid: uid, seq: seq(at: position), kind: .delta(text: cursor.takeText(of: self, at: position))))
            case .reasoning:
                let text = cursor.takeText(of: self, at: position)
                events.append(StreamEvent(uid: uid, seq: seq(at: position), kind: .reasoning(text: text)))
            case .other, nil:
                events.append(otherEvent(at: position))
            }
        }
        return events
    }

    /// Where the next event's text starts, walked forward one event at a time.
    private struct TextCursor {
        var offset: Int
        /// The first entry of `longLengths` not behind the walk.
        var nextLong: Int

        init(of events: CompactEvents, at position: Int) {
            let checkpoint = position / CompactEvents.checkpointInterval
            let first = checkpoint * CompactEvents.checkpointInterval
            offset = Int(events.checkpoints[checkpoint])
            nextLong = events.longLengths.partitionIndex { $0.position >= first }
            for skipped in first..<position where events.layout[2 * skipped] != Kind.other.rawValue {
                offset += nextLength(of: events, at: skipped)
            }
        }

        /// The text at `position` (the walk's next text event), and the walk moved past it.
        mutating func takeText(of events: CompactEvents, at position: Int) -> String {
            let start = offset
            offset += nextLength(of: events, at: position)
            return String(decoding: events.texts[start..<offset], as: UTF8.self)
        }

        private mutating func nextLength(of events: CompactEvents, at position: Int) -> Int {
            let length = events.layout[2 * position + 1]
            guard length == CompactEvents.longLength else { return Int(length) }
            nextLong += 1
            return events.longLengths[nextLong - 1].length
        }
    }

    private func otherEvent(at position: Int) -> StreamEvent {
        others[others.partitionIndex { $0.position >= position }].event
    }
}
