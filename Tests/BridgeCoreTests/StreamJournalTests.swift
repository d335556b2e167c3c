import Foundation
import Synchronization
import Testing

@testable import BridgeCore

/// Records what the journal hands it.
private final class CollectingReader: StreamJournalReader {
    struct Seen {
        var attached: [String] = []
        var seqs: [Int] = []
        var finished = 0
    }

    let seen = Mutex(Seen())
    func journalDidAttach(epoch: String) { seen.withLock { $0.attached.append(epoch) } }
    func journal(didRecord event: RecordedEvent) { seen.withLock { $0.seqs.append(event.seq) } }
    func journalDidFinish() { seen.withLock { $0.finished += 1 } }
    var snapshot: Seen { seen.withLock { $0 } }
}

@Suite("Stream journal")
struct StreamJournalTests {
    private let start = ContinuousClock.now

    private func run(_ journal: StreamJournal, uid: String, epoch: String = "E", deltas: Int, end: Bool = true) {
        let sink = journal.sink(for: uid)
        sink.deliver(StreamEvent(uid: uid, seq: 1, kind: .start(epoch: epoch, model: "m")))
        for index in 0..<deltas { sink.deliver(StreamEvent(uid: uid, seq: index + 2, kind: .delta(text: "t\(index) "))) }
        if end { sink.deliver(StreamEvent(uid: uid, seq: deltas + 2, kind: .done(finishReason: "stop", usage: nil))) }
    }

    @Test func aReaderGetsWhatFollowsItsPointThenLiveEventsThenTheEnd() {
        let journal = StreamJournal(retention: .seconds(60))
        run(journal, uid: "a", deltas: 3, end: false)
        let reader = CollectingReader()
        #expect(journal.attach(reader, uid: "a", after: 2) == .attached)
        journal.sink(for: "a").deliver(StreamEvent(uid: "a", seq: 5, kind: .done(finishReason: "stop", usage: nil)))
        let seen = reader.snapshot
        #expect(seen.attached == ["E"] && seen.seqs == [3, 4, 5] && seen.finished == 1)
        #expect(journal.result(of: "a")?.result.text == "t0 t1 t2 " && journal.result(of: "a")?.status == .done)
    }

    @Test func aReaderThatCameFirstIsAttachedWhenTheStreamStarts() {
        let journal = StreamJournal(retention: .seconds(60))
        let early = CollectingReader()
        let given = CollectingReader()
        #expect(journal.attach(early, uid: "b", after: 0) == .waiting)
        #expect(journal.attach(given, uid: "b", after: 0) == .waiting)
        #expect(journal.stopWaiting(given, uid: "b"))
        #expect(journal.waitingReaderCount == 1)
        run(journal, uid: "b", deltas: 2)
        #expect(early.snapshot.seqs == [1, 2, 3, 4] && early.snapshot.finished == 1)
        #expect(given.snapshot.seqs.isEmpty)
        #expect(!journal.stopWaiting(early, uid: "b"), "no longer waiting: the route must not answer 404")
    }

    @Test func finishedStreamsLeaveAfterRetentionOrWhenOverBudget() {
        let journal = StreamJournal(retention: .seconds(60), maxBytes: 4096)
        run(journal, uid: "old", deltas: 5)
        #expect(journal.result(of: "old", now: .now + .seconds(59)) != nil)
        #expect(journal.result(of: "old", now: .now + .seconds(61)) == nil)
        // About 80 bytes an event: forty streams of ten events each are far over 4 KiB.
        for index in 0..<40 { run(journal, uid: "s\(index)", deltas: 8) }
        #expect(journal.heldBytes <= 4096)
        #expect(journal.result(of: "s39") != nil && journal.result(of: "s0") == nil, "the longest finished went first")
    }

    @Test func aResumePointOfAnEarlierRunReadsTheCurrentRunFromItsStart() {
        let journal = StreamJournal(retention: .seconds(60))
        run(journal, uid: "e", epoch: "ONE", deltas: 6)
        run(journal, uid: "e", epoch: "TWO", deltas: 2, end: false)
        let stale = CollectingReader()
        let current = CollectingReader()
        let unaware = CollectingReader()
        #expect(journal.attach(stale, uid: "e", after: 5, epoch: "ONE") == .attached)
        #expect(journal.attach(current, uid: "e", after: 2, epoch: "TWO") == .attached)
        #expect(journal.attach(unaware, uid: "e", after: 2) == .attached)
        journal.sink(for: "e").deliver(StreamEvent(uid: "e", seq: 4, kind: .done(finishReason: "stop", usage: nil)))
        #expect(stale.snapshot.seqs == [1, 2, 3, 4], "seq 5 of run ONE says nothing about run TWO")
        #expect(current.snapshot.seqs == [3, 4] && unaware.snapshot.seqs == [3, 4])
        // Past the end of a finished run of another epoch is not "already read".
        let late = CollectingReader()
        #expect(journal.attach(late, uid: "e", after: 9, epoch: "ONE") == .attached)
        #expect(late.snapshot.seqs == [1, 2, 3, 4] && late.snapshot.finished == 1)
        #expect(journal.attach(CollectingReader(), uid: "e", after: 9, epoch: "TWO") == .alreadyRead)
    }

    @Test func aWaitingReaderOfAnotherRunGetsTheNewRunWhole() {
        let journal = StreamJournal(retention: .seconds(60))
        let stale = CollectingReader()
        let same = CollectingReader()
        #expect(journal.attach(stale, uid: "w", after: 3, epoch: "OLD") == .waiting)
        #expect(journal.attach(same, uid: "w", after: 3, epoch: "NEW") == .waiting)
        run(journal, uid: "w", epoch: "NEW", deltas: 3)
        #expect(stale.snapshot.seqs == [1, 2, 3, 4, 5] && stale.snapshot.attached == ["NEW"])
        #expect(same.snapshot.seqs == [4, 5])
    }

    @Test func aRunningStreamIsNeverDroppedAndARerunStartsOver() {
        let journal = StreamJournal(retention: .seconds(60), maxBytes: 1 << 20)
        run(journal, uid: "r", epoch: "ONE", deltas: 2)
        run(journal, uid: "r", epoch: "TWO", deltas: 1, end: false)
        let state = journal.result(of: "r")
        #expect(state?.epoch == "TWO" && state?.status == .running && state?.result.text == "t0 ")
        #expect(journal.result(of: "r", now: .now + .seconds(3600)) != nil, "running streams do not expire")
    }
}

/// A reader whose replay waits until the stream has recorded more: the replay must run outside
/// the journal's lock, or the recording would wait for the replay and the replay for it.
private final class WaitingReader: StreamJournalReader {
    let seen = Mutex<[Int]>([])
    let finished = Atomic<Int>(0)
    let recordedMeanwhile = DispatchSemaphore(value: 0)
    let replayStarted = DispatchSemaphore(value: 0)
    let timedOut = Atomic<Bool>(false)

    func journalDidAttach(epoch: String) {}
    func journal(didRecord event: RecordedEvent) { seen.withLock { $0.append(event.seq) } }
    func journal(didReplay events: [RecordedEvent]) {
        let first = seen.withLock { $0.isEmpty }
        seen.withLock { $0 += events.map(\.seq) }
        guard first else { return }
        replayStarted.signal()
        if recordedMeanwhile.wait(timeout: .now() + 5) == .timedOut { timedOut.store(true, ordering: .relaxed) }
    }
    func journalDidFinish() { finished.add(1, ordering: .relaxed) }
}

@Suite("Stream journal replay")
struct StreamJournalReplayTests {
    @Test func aReplayRunsOutsideTheLockAndWhatCameMeanwhileFollowsInOrder() {
        let journal = StreamJournal(retention: .seconds(60))
        let sink = journal.sink(for: "r")
        sink.deliver(StreamEvent(uid: "r", seq: 1, kind: .start(epoch: "E", model: "m")))
        for seq in 2...50 { sink.deliver(StreamEvent(uid: "r", seq: seq, kind: .delta(text: "t"))) }
        let reader = WaitingReader()
        let recorder = Thread {
            reader.replayStarted.wait()
            // The attaching thread is inside the replay now: these must not wait for it.
            for seq in 51...60 { sink.deliver(StreamEvent(uid: "r", seq: seq, kind: .delta(text: "u"))) }
            reader.recordedMeanwhile.signal()
        }
        recorder.start()
        #expect(journal.attach(reader, uid: "r", after: 10) == .attached)
        let timedOut = reader.timedOut.load(ordering: .relaxed)
        #expect(!timedOut, "recording waited for the replay")
        sink.deliver(StreamEvent(uid: "r", seq: 61, kind: .delta(text: "v")))
        sink.deliver(StreamEvent(uid: "r", seq: 62, kind: .done(finishReason: "stop", usage: nil)))
        #expect(reader.seen.withLock { $0 } == Array(11...62), "the replay, then what came meanwhile, then live, once each")
        let finished = reader.finished.load(ordering: .relaxed)
        #expect(finished == 1)
    }

    @Test func aStreamThatEndsDuringTheReplayFinishesTheReaderAfterIt() {
        let journal = StreamJournal(retention: .seconds(60))
        let sink = journal.sink(for: "e")
        sink.deliver(StreamEvent(uid: "e", seq: 1, kind: .start(epoch: "E", model: "m")))
        let reader = WaitingReader()
        sink.deliver(StreamEvent(uid: "e", seq: 2, kind: .delta(text: "a")))
        let recorder = Thread {
            reader.replayStarted.wait()
            sink.deliver(StreamEvent(uid: "e", seq: 3, kind: .done(finishReason: "stop", usage: nil)))
            reader.recordedMeanwhile.signal()
        }
        recorder.start()
        #expect(journal.attach(reader, uid: "e", after: 0) == .attached)
        #expect(reader.seen.withLock { $0 } == [1, 2, 3])
        let finished = reader.finished.load(ordering: .relaxed)
        #expect(finished == 1, "finished once, after its replay")
    }
}
