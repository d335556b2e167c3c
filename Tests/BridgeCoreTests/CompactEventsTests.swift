import Testing

@testable import BridgeCore

@Suite("Journal's compact events")
struct CompactEventsTests {
    private static let uid = "chat-7f3e2a10-compact"

    private static func stream(_ kinds: [StreamEvent.Kind], firstSeq: Int = 1) -> [StreamEvent] {
        kinds.enumerated().map { StreamEvent(uid: uid, seq: firstSeq + $0.offset, kind: $0.element) }
    }

    private static let mixed: [StreamEvent.Kind] = [
        .start(epoch: "EPOCH123", model: "m"),
        .reasoning(text: "Let me think… "),
        .reasoning(text: ""),
        .delta(text: "Grüße, "),
        .delta(text: "\"quoted\" \\ and\nnew line\t👋🏽"),
        .toolCall(ToolCallDelta(index: 0, id: "call_1", name: "lookup", arguments: "{\"q\":")),
        .delta(text: ""),
        .toolCall(ToolCallDelta(index: 0, arguments: "\"x\"}")),
        .delta(text: String(repeating: "long text ", count: 300)),
        .done(finishReason: "stop", usage: Usage(promptTokens: 3, completionTokens: 9)),
    ]

    @Test func everyEventComesBackWithTheSameFieldsAndTheSameJSONBytes() {
        let events = Self.stream(Self.mixed)
        var compact = CompactEvents()
        for event in events { compact.append(event) }
        #expect(compact.count == events.count)
        for (position, original) in events.enumerated() {
            let again = compact.event(at: position, uid: Self.uid)
            #expect(again == original)
            #expect(again.jsonBytes() == original.jsonBytes(), "event \(position)")
        }
        #expect(compact.lastSeq == events.count)
        #expect(compact.lastOther?.isTerminal == true)
        compact.shrinkToFit()
        #expect((0..<events.count).map { compact.event(at: $0, uid: Self.uid) } == events, "the same after shrinking")
    }

    @Test func positionsFollowSeqsWhetherTheyRunOneByOneOrNot() {
        var regular = CompactEvents()
        for event in Self.stream([.start(epoch: "E", model: "m"), .delta(text: "a"), .delta(text: "b")], firstSeq: 5) {
            regular.append(event)
        }
        #expect([0, 4, 5, 6, 7, 99].map { regular.position(after: $0) } == [0, 0, 1, 2, 3, 3])
        #expect(regular.seq(at: 2) == 7)

        var gapped = CompactEvents()
        for (seq, text) in [(1, "a"), (2, "b"), (5, "c"), (9, "d")] {
            gapped.append(StreamEvent(uid: Self.uid, seq: seq, kind: .delta(text: text)))
        }
        #expect([0, 1, 2, 3, 5, 8, 9].map { gapped.position(after: $0) } == [0, 1, 2, 2, 3, 3, 4])
        #expect((0..<4).map { gapped.event(at: $0, uid: Self.uid).seq } == [1, 2, 5, 9])
        #expect(gapped.event(at: 2, uid: Self.uid) == StreamEvent(uid: Self.uid, seq: 5, kind: .delta(text: "c")))
    }

    @Test func aTokenCostsItsTextAndAFewBytesNotAWholeEvent() {
        var compact = CompactEvents()
        compact.append(StreamEvent(uid: Self.uid, seq: 1, kind: .start(epoch: "E", model: "m")))
        for seq in 2...1001 { compact.append(StreamEvent(uid: Self.uid, seq: seq, kind: .delta(text: " word"))) }
        compact.append(StreamEvent(uid: Self.uid, seq: 1002, kind: .done(finishReason: "stop", usage: nil)))
        compact.shrinkToFit()
        // 1000 tokens of 5 bytes: 5 kB of text and 2 kB of bookkeeping, plus two whole events.
        #expect(compact.byteCount < 7_800, "\(compact.byteCount) bytes")
        #expect(compact.byteCount > 7_000, "the texts and positions are counted")
    }

    /// Texts short and long (past a length byte), reasoning, tool calls and irregular seqs, over
    /// several checkpoints: every range reads back what went in.
    @Test func anyRangeReadsBackWhatWentInAcrossCheckpointsAndLongTexts() {
        var kinds: [StreamEvent.Kind] = [.start(epoch: "E", model: "m")]
        for index in 1..<300 {
            switch index % 7 {
            case 0: kinds.append(.delta(text: String(repeating: "ü", count: 100 + index)))  // 200+ bytes, some past 255
            case 3: kinds.append(.reasoning(text: "r\(index)"))
            case 5: kinds.append(.toolCall(ToolCallDelta(index: 0, arguments: "{\(index)")))
            default: kinds.append(.delta(text: index % 2 == 0 ? "" : "t\(index) "))
            }
        }
        kinds.append(.done(finishReason: "stop", usage: nil))
        for events in [Self.stream(kinds), Self.stream(kinds).enumerated().map { StreamEvent(uid: Self.uid, seq: 3 * $0.offset + 2, kind: $0.element.kind) }] {
            var compact = CompactEvents()
            for event in events { compact.append(event) }
            compact.shrinkToFit()
            #expect(compact.events(in: 0..<events.count, uid: Self.uid) == events)
            for position in events.indices { #expect(compact.event(at: position, uid: Self.uid) == events[position]) }
            for range in [0..<1, 63..<65, 64..<128, 100..<250, 255..<events.count, 128..<128] {
                #expect(compact.events(in: range, uid: Self.uid) == Array(events[range]), "\(range)")
            }
        }
    }
}

@Suite("Partition index")
struct PartitionIndexTests {
    @Test func findsTheFirstElementPastThePointInAnySortedCollection() {
        let values = [1, 3, 3, 5, 8]
        #expect([0, 1, 2, 3, 4, 5, 8, 9].map { bound in values.partitionIndex { $0 > bound } } == [0, 1, 1, 3, 3, 4, 5, 5])
        #expect([Int]().partitionIndex { $0 > 0 } == 0)
        let slice = values[2...]
        #expect(slice.partitionIndex { $0 > 3 } == 3, "indices of the slice itself")
    }
}
