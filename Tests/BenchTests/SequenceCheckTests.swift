import Testing

@testable import Bench

@Suite("Sequence and stamp checks")
struct SequenceCheckTests {
    @Test func inOrderSeqsAreNeitherLostNorRepeated() {
        var check = SequenceCheck()
        for seq in UInt64(1)...102 { #expect(check.note(from: seq, to: seq) == 1) }
        #expect(check.distinct == 102 && check.highest == 102)
        #expect(check.gaps == 0 && check.duplicated == 0 && check.outOfOrder == 0)
    }

    @Test func aRepeatIsADuplicateALateOneIsOutOfOrderAMissingOneIsAGap() {
        var check = SequenceCheck()
        check.note(from: 1, to: 1)
        check.note(from: 2, to: 2)
        check.note(from: 2, to: 2)  // again
        check.note(from: 5, to: 5)  // 3 and 4 not yet
        check.note(from: 3, to: 3)  // late
        check.note(from: 7, to: 7)  // 6 never comes
        #expect(check.duplicated == 1)
        #expect(check.outOfOrder == 1)
        #expect(check.gaps == 2)  // 4 and 6
        #expect(check.distinct == 5)
    }

    @Test func aMergedEventCoversItsRangeOnce() {
        var check = SequenceCheck()
        #expect(check.note(from: 1, to: 1) == 1)
        #expect(check.note(from: 2, to: 40) == 39)
        #expect(check.note(from: 30, to: 45) == 5)  // 30...40 again
        #expect(check.duplicated == 11)
        #expect(check.gaps == 0 && check.highest == 45)
    }

    @Test func nonsenseSeqsAreCountedNotBelieved() {
        var check = SequenceCheck()
        #expect(check.note(from: 0, to: 0) == 0)
        #expect(check.note(from: 9, to: 3) == 0)
        #expect(check.note(from: 1, to: UInt64.max) == 0)  // would size the bitmap
        #expect(check.outOfOrder == 3 && check.distinct == 0 && check.highest == 0)
    }

    @Test func stampsAreReadFromPlainAndMergedTexts() {
        var seen: [UInt64] = []
        let event = Array(#"{"uid":"u","seq":4,"type":"delta","text":"<123><456><789>","done":false}"#.utf8)
        #expect(TokenStamps.scanEvent(event) { seen.append($0) } == 3)
        #expect(seen == [123, 456, 789])
        seen = []
        #expect(TokenStamps.scan(Array("<42>".utf8), from: 0) { seen.append($0) } == 1)
        #expect(seen == [42])
        // Not stamps: ordinary text, a broken one, an event without text.
        #expect(TokenStamps.scan(Array("Hello <1>".utf8), from: 0) { _ in } == 0)
        #expect(TokenStamps.scan(Array("<12".utf8), from: 0) { _ in } == 0)
        #expect(TokenStamps.scanEvent(Array(#"{"type":"done","done":true}"#.utf8)) { _ in } == 0)
    }

    @Test func anObservationCountsDeltaTokensAndTheTerminalEvent() {
        var observation = StreamObservation(at: 10)
        observation.note(from: 1, to: 1, isDelta: false, terminal: nil, at: 11)
        observation.note(from: 2, to: 3, isDelta: true, terminal: nil, at: 12)
        observation.note(from: 3, to: 3, isDelta: true, terminal: nil, at: 13)
        observation.note(from: 4, to: 4, isDelta: false, terminal: "error", at: 14)
        #expect(observation.tokens == 2 && observation.firstTokenAt == 12 && observation.lastActivityAt == 14)
        let result = observation.result(failure: nil)
        #expect(result.duplicated == 1 && result.tokens == 2)
        #expect(result.failure == "the stream ended with error")
        var done = StreamObservation(at: 0)
        done.note(from: 1, to: 1, isDelta: false, terminal: "done", at: 1)
        #expect(done.result(failure: nil).failure == nil)
    }
}
