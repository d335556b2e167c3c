/// One stream's events as the journal keeps them: the text of every delta and reasoning event
/// (nearly all of a stream) back to back in one buffer, each other event as it is.
///
/// A token kept as a `StreamEvent` cost about 260 bytes (the event itself, the wire JSON it then
/// carried, which repeats the uid, and the allocator's rounding). Here it costs its text and 5
/// bytes. An event is made again when it is read, and its JSON is byte for byte the one it had:
/// the same encoder makes it from the same fields.
struct CompactEvents {
    private enum Kind: UInt8 {
        case delta, reasoning, other
    }

    private var kinds: [UInt8] = []
    /// Per event, where the texts end once it is added: an event's text runs from the previous
    /// event's end to its own (events without text add nothing).
    private var textEnds: [UInt32] = []
    private var texts: [UInt8] = []
    /// The events that are not text, with their positions.
    private var others: [(position: Int, event: StreamEvent)] = []
    /// What the other events hold, counted as their JSON's size (their strings are about as much).
    private var otherBytes = 0
    private var firstSeq = 1
    /// Only once the seqs stop running one by one (the pipeline never does that): every seq.
    private var irregularSeqs: [Int]?

    var count: Int { kinds.count }
    var isEmpty: Bool { kinds.isEmpty }

    /// The memory this holds (capacities, so growth room counts too).
    var byteCount: Int {
        kinds.capacity + textEnds.capacity * 4 + texts.capacity + (irregularSeqs?.capacity ?? 0) * 8
            + others.capacity * MemoryLayout<(position: Int, event: StreamEvent)>.stride + otherBytes
    }

    mutating func append(_ event: StreamEvent) {
        if irregularSeqs == nil {
            if kinds.isEmpty {
                firstSeq = event.seq
            } else if event.seq != firstSeq + kinds.count {
                irregularSeqs = (0..<kinds.count).map { firstSeq + $0 }
            }
        }
        irregularSeqs?.append(event.seq)
        switch event.kind {
        // Text offsets are 32-bit: a stream past 4 GiB of text keeps the rest whole.
        case .delta(let text) where texts.count + text.utf8.count <= UInt32.max:
            kinds.append(Kind.delta.rawValue)
            texts.append(contentsOf: text.utf8)
        case .reasoning(let text) where texts.count + text.utf8.count <= UInt32.max:
            kinds.append(Kind.reasoning.rawValue)
            texts.append(contentsOf: text.utf8)
        default:
            kinds.append(Kind.other.rawValue)
            others.append((kinds.count - 1, event))
            otherBytes += event.jsonBytes().count
        }
        textEnds.append(UInt32(truncatingIfNeeded: texts.count))
    }

    /// Gives back the growth room, once nothing more will be added.
    mutating func shrinkToFit() {
        kinds = kinds.withUnsafeBufferPointer { Array($0) }
        textEnds = textEnds.withUnsafeBufferPointer { Array($0) }
        texts = texts.withUnsafeBufferPointer { Array($0) }
        others = others.withUnsafeBufferPointer { Array($0) }
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
        let seq = seq(at: position)
        switch Kind(rawValue: kinds[position]) {
        case .delta: return StreamEvent(uid: uid, seq: seq, kind: .delta(text: text(at: position)))
        case .reasoning: return StreamEvent(uid: uid, seq: seq, kind: .reasoning(text: text(at: position)))
        case .other, nil: return otherEvent(at: position)
        }
    }

    private func text(at position: Int) -> String {
        let start = position == 0 ? 0 : Int(textEnds[position - 1])
        return String(decoding: texts[start..<Int(textEnds[position])], as: UTF8.self)
    }

    private func otherEvent(at position: Int) -> StreamEvent {
        others[others.partitionIndex { $0.position >= position }].event
    }
}
