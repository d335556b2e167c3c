import BridgeCore
import Foundation
import Synchronization
import Testing

@testable import Centrifuge

/// Stream channels whose history the stream journal keeps (as `tokenbridge serve` runs them).
@Suite("Stream channels read from the journal")
struct JournaledStreamChannelTests {
    /// One stream as the pipeline runs it: each event is recorded in the journal first, then
    /// published into the channel, or (`journalOnly`) not yet published.
    private final class Stream: Sendable {
        let uid: String
        let epoch: String
        let journal: StreamJournal
        let hub: ChannelHub
        let recorder: any EventSink
        private let seq = Mutex(0)

        init(_ uid: String, epoch: String = "RUNEPOCH", journal: StreamJournal, hub: ChannelHub, sharedWithChannel: Bool = true) {
            self.uid = uid
            self.epoch = epoch
            self.journal = journal
            self.hub = hub
            recorder = journal.sink(for: uid, sharedWithChannel: sharedWithChannel)
        }

        var channel: String { "stream_" + uid }

        /// `start`, then `count` deltas "t1", "t2", ...
        @discardableResult
        func emit(deltas count: Int, journalOnly: Bool = false) -> [StreamEvent] {
            var events: [StreamEvent] = []
            for _ in 0..<count {
                let next = seq.withLock { seq -> Int in
                    seq += 1
                    return seq
                }
                let kind: StreamEvent.Kind = next == 1 ? .start(epoch: epoch, model: "m") : .delta(text: "t\(next)")
                events.append(StreamEvent(uid: uid, seq: next, kind: kind))
            }
            recorder.deliver(contentsOf: events)
            if !journalOnly { publish(events) }
            return events
        }

        func finish() {
            let next = seq.withLock { seq -> Int in
                seq += 1
                return seq
            }
            let done = StreamEvent(uid: uid, seq: next, kind: .done(finishReason: "stop", usage: nil))
            recorder.deliver(done)
            publish([done])
        }

        func publish(_ events: [StreamEvent]) {
            hub.publishJournaledStream(channel: channel, epoch: epoch, count: events.count) {
                events.map { StreamPublication(seq: UInt64($0.seq), data: $0.jsonBytes()) }
            }
        }
    }

    private static func hub(
        _ journal: StreamJournal, historySize: Int = 10_000, historyTTL: Duration = .seconds(600)
    ) -> ChannelHub {
        ChannelHub(
            configuration: .init(historySize: historySize, historyTTL: historyTTL),
            streamHistory: JournalHistory(journal: journal))
    }

    private static func subscribe(
        _ subscriber: RecordingSubscriber, to channel: String, hub: ChannelHub, recover: StreamPosition?
    ) -> SubscribeOutcome {
        let outcome = Mutex<SubscribeOutcome?>(nil)
        hub.subscribe(subscriber, to: channel, recover: recover) { reply in outcome.withLock { $0 = reply } }
        return outcome.withLock { $0 } ?? SubscribeOutcome(epoch: "", offset: 0, recovered: false, publications: [])
    }

    @Test func aStreamNobodyWatchesMakesNoChannelAndALateSubscriberRecoversItAll() {
        let journal = StreamJournal(retention: .seconds(60))
        let hub = Self.hub(journal)
        let stream = Stream("late", journal: journal, hub: hub)
        let events = stream.emit(deltas: 5)
        stream.finish()
        #expect(hub.channelCount == 0, "no subscriber: no channel")
        #expect(hub.historyBytes == 0, "nothing kept twice")
        #expect(hub.publications == 6)

        let outcome = Self.subscribe(RecordingSubscriber(), to: stream.channel, hub: hub, recover: StreamPosition(offset: 0, epoch: ""))
        #expect(outcome.recovered)
        #expect(outcome.epoch == "RUNEPOCH" && outcome.offset == 6)
        #expect(outcome.publications.map(\.offset) == Array(1...6))
        #expect(outcome.publications.prefix(5).map(\.data) == events.map { $0.jsonBytes() }, "the journal's own bytes")
    }

    @Test func aSubscriberMidStreamGetsWhatItMissedThenEveryLiveEventOnce() {
        let journal = StreamJournal(retention: .seconds(60))
        let hub = Self.hub(journal)
        let stream = Stream("mid", journal: journal, hub: hub)
        stream.emit(deltas: 4)
        let subscriber = RecordingSubscriber()
        let outcome = Self.subscribe(subscriber, to: stream.channel, hub: hub, recover: StreamPosition(offset: 2, epoch: "RUNEPOCH"))
        #expect(outcome.recovered && outcome.publications.map(\.offset) == [3, 4])
        stream.emit(deltas: 3)
        stream.finish()
        #expect(subscriber.offsets == [5, 6, 7, 8])
    }

    @Test func eventsTheJournalHasButTheChannelHasNotPublishedAreRecoveredNotRepeated() {
        let journal = StreamJournal(retention: .seconds(60))
        let hub = Self.hub(journal)
        let stream = Stream("ahead", journal: journal, hub: hub)
        stream.emit(deltas: 3)
        // Recorded, and the stream's thread has not published them yet when the subscriber comes.
        let pending = stream.emit(deltas: 2, journalOnly: true)
        let subscriber = RecordingSubscriber()
        let outcome = Self.subscribe(subscriber, to: stream.channel, hub: hub, recover: StreamPosition(offset: 0, epoch: ""))
        #expect(outcome.recovered && outcome.publications.map(\.offset) == [1, 2, 3, 4, 5])
        stream.publish(pending)
        stream.emit(deltas: 1)
        #expect(subscriber.offsets == [6], "4 and 5 came in the reply, not again live")
    }

    @Test func anOpenChannelMayBeABatchBehindTheJournalAndRecoversOnlyWhatItPublished() {
        let journal = StreamJournal(retention: .seconds(60))
        let hub = Self.hub(journal)
        let stream = Stream("behind", journal: journal, hub: hub)
        let first = RecordingSubscriber()
        _ = Self.subscribe(first, to: stream.channel, hub: hub, recover: nil)
        stream.emit(deltas: 3)
        let pending = stream.emit(deltas: 2, journalOnly: true)
        let second = RecordingSubscriber()
        let outcome = Self.subscribe(second, to: stream.channel, hub: hub, recover: StreamPosition(offset: 1, epoch: "RUNEPOCH"))
        #expect(outcome.recovered && outcome.offset == 3 && outcome.publications.map(\.offset) == [2, 3])
        stream.publish(pending)
        #expect(first.offsets == [1, 2, 3, 4, 5])
        #expect(second.offsets == [4, 5], "the rest arrives live, to both")
    }

    @Test func historySizeAndTTLBoundWhatIsRecoveredAndThePositionStays() {
        let journal = StreamJournal(retention: .seconds(60))
        let small = Self.hub(journal, historySize: 3)
        let stream = Stream("sized", journal: journal, hub: small)
        stream.emit(deltas: 6)
        let recent = Self.subscribe(RecordingSubscriber(), to: stream.channel, hub: small, recover: StreamPosition(offset: 3, epoch: ""))
        #expect(recent.recovered && recent.publications.map(\.offset) == [4, 5, 6])
        let old = Self.subscribe(RecordingSubscriber(), to: stream.channel, hub: small, recover: StreamPosition(offset: 1, epoch: ""))
        #expect(!old.recovered, "2 and 3 are past history_size")
        guard case .success(let page) = small.history(channel: stream.channel, limit: -1, since: nil, reverse: false) else {
            Issue.record("history failed")
            return
        }
        #expect(page.publications.map(\.offset) == [4, 5, 6] && page.offset == 6)

        let expired = Self.hub(journal, historyTTL: .zero)
        guard case .success(let gone) = expired.history(channel: stream.channel, limit: -1, since: nil, reverse: false) else {
            Issue.record("history failed")
            return
        }
        #expect(gone.publications.isEmpty, "past history_ttl")
        #expect(gone.epoch == "RUNEPOCH" && gone.offset == 6, "the position outlives the history")
        let late = Self.subscribe(RecordingSubscriber(), to: stream.channel, hub: expired, recover: StreamPosition(offset: 0, epoch: ""))
        #expect(!late.recovered && late.epoch == "RUNEPOCH" && late.offset == 6)
    }

    @Test func aStreamThatDoesNotPublishIntoItsChannelShowsNoHistoryThere() {
        let journal = StreamJournal(retention: .seconds(60))
        let hub = Self.hub(journal)
        let stream = Stream("queued", journal: journal, hub: hub, sharedWithChannel: false)
        stream.recorder.deliver(StreamEvent(uid: "queued", seq: 1, kind: .start(epoch: "RUNEPOCH", model: "m")))
        guard case .success(let page) = hub.history(channel: stream.channel, limit: -1, since: nil, reverse: false) else {
            Issue.record("history failed")
            return
        }
        #expect(page.offset == 0 && page.publications.isEmpty)
        #expect(journal.result(of: "queued") != nil, "the journal still keeps it for its readers")
    }

    @Test func historyRemoveHidesWhatWasThereAndKeepsWhatComesAfter() {
        let journal = StreamJournal(retention: .seconds(60))
        let hub = Self.hub(journal)
        let stream = Stream("removed", journal: journal, hub: hub)
        stream.emit(deltas: 3)
        hub.removeHistory(channel: stream.channel)
        stream.emit(deltas: 2)
        guard case .success(let page) = hub.history(channel: stream.channel, limit: -1, since: nil, reverse: false) else {
            Issue.record("history failed")
            return
        }
        #expect(page.publications.map(\.offset) == [4, 5] && page.offset == 5)
        #expect(journal.result(of: "removed")?.result.text == "t2t3t4t5", "SSE readers still get every event")
    }

    @Test func aRerunStartsTheChannelOverAndAnOldRunsPositionIsNotRecovered() {
        let journal = StreamJournal(retention: .seconds(60))
        let hub = Self.hub(journal)
        let first = Stream("again", epoch: "FIRSTRUN", journal: journal, hub: hub)
        first.emit(deltas: 3)
        first.finish()
        let second = Stream("again", epoch: "SECONDRN", journal: journal, hub: hub)
        second.emit(deltas: 2)
        let old = Self.subscribe(RecordingSubscriber(), to: first.channel, hub: hub, recover: StreamPosition(offset: 2, epoch: "FIRSTRUN"))
        #expect(!old.recovered && old.epoch == "SECONDRN" && old.offset == 2)
        let fresh = Self.subscribe(RecordingSubscriber(), to: first.channel, hub: hub, recover: StreamPosition(offset: 0, epoch: ""))
        #expect(fresh.recovered && fresh.publications.map(\.offset) == [1, 2])
    }

    @Test func aStreamChannelPublishedToDirectlyKeepsItsOwnHistory() {
        // `/api/execute` publishes text messages into a `stream_` channel that no journaled stream owns.
        let journal = StreamJournal(retention: .seconds(60))
        let hub = Self.hub(journal)
        for seq in 1...3 {
            hub.publishStream(channel: "stream_page-chosen", epoch: "TEXTRUN1", seq: UInt64(seq), data: Array(#"{"text":"x","done":false}"#.utf8))
        }
        let late = Self.subscribe(RecordingSubscriber(), to: "stream_page-chosen", hub: hub, recover: StreamPosition(offset: 0, epoch: ""))
        #expect(late.recovered && late.publications.map(\.offset) == [1, 2, 3])
        #expect(hub.historyBytes > 0)
    }

    @Test func aClientThatSubscribedBeforeTheStreamStillRecoversAfterItsChannelWasDropped() {
        let journal = StreamJournal(retention: .seconds(60))
        let hub = Self.hub(journal)
        let stream = Stream("early", journal: journal, hub: hub)
        let early = RecordingSubscriber()
        let empty = Self.subscribe(early, to: stream.channel, hub: hub, recover: StreamPosition(offset: 0, epoch: ""))
        #expect(empty.epoch != stream.epoch, "the empty channel's own epoch")
        stream.emit(deltas: 3)
        hub.unsubscribe(early, from: stream.channel)
        hub.sweep()
        #expect(hub.channelCount == 0)
        stream.emit(deltas: 2)
        let back = Self.subscribe(RecordingSubscriber(), to: stream.channel, hub: hub, recover: StreamPosition(offset: 3, epoch: empty.epoch))
        #expect(back.recovered && back.publications.map(\.offset) == [4, 5], "under the epoch it first got")
        let fromNothing = Self.subscribe(RecordingSubscriber(), to: stream.channel, hub: hub, recover: StreamPosition(offset: 0, epoch: "NOTTHIS1"))
        #expect(fromNothing.recovered && fromNothing.publications.count == 5, "offset 0 has seen nothing of any run")
    }

    @Test func aStreamStartingOnAChannelWithTextOfItsOwnReplacesIt() {
        // `/api/execute` published text into `stream_shared`; then a stream with uid `shared` runs.
        let journal = StreamJournal(retention: .seconds(60))
        let hub = Self.hub(journal)
        for seq in 1...5 {
            hub.publishStream(channel: "stream_shared", epoch: "TEXTRUN1", seq: UInt64(seq), data: Array(#"{"text":"old"}"#.utf8))
        }
        let stream = Stream("shared", journal: journal, hub: hub)
        stream.emit(deltas: 8)
        let outcome = Self.subscribe(RecordingSubscriber(), to: stream.channel, hub: hub, recover: StreamPosition(offset: 2, epoch: stream.epoch))
        #expect(outcome.recovered && outcome.publications.map(\.offset) == Array(3...8))
        #expect(outcome.publications.allSatisfy { String(decoding: $0.data, as: UTF8.self).contains(#""uid":"shared""#) }, "the stream's events")
        #expect(hub.historyBytes == 0, "the old run's text went with its epoch")
    }

    @Test func aSweptChannelComesBackWhereTheJournalStands() {
        let journal = StreamJournal(retention: .seconds(60))
        let hub = Self.hub(journal)
        let stream = Stream("swept", journal: journal, hub: hub)
        let subscriber = RecordingSubscriber()
        _ = Self.subscribe(subscriber, to: stream.channel, hub: hub, recover: nil)
        stream.emit(deltas: 2)
        hub.unsubscribe(subscriber, from: stream.channel)
        hub.sweep()
        #expect(hub.channelCount == 0, "no subscribers and no history of its own: dropped")
        stream.emit(deltas: 2)
        let outcome = Self.subscribe(RecordingSubscriber(), to: stream.channel, hub: hub, recover: StreamPosition(offset: 2, epoch: "RUNEPOCH"))
        #expect(outcome.recovered && outcome.offset == 4 && outcome.publications.map(\.offset) == [3, 4])
    }
}

@Suite("Journaled stream channels under a busy sweeper")
struct JournaledStreamRaceTests {
    /// A stream keeps publishing while a sweeper drops idle channels as fast as it can and a
    /// client leaves and comes back, recovering from the last offset it saw each time: every seq
    /// must reach the client once, in order, across all its subscriptions.
    @Test func aClientThatKeepsReconnectingSeesEverySeqOnce() {
        let journal = StreamJournal(retention: .seconds(60))
        let hub = ChannelHub(streamHistory: JournalHistory(journal: journal))
        let uid = "busy"
        let channel = "stream_" + uid
        let recorder = journal.sink(for: uid, sharedWithChannel: true)
        let total = 20_000
        let stop = Atomic<Bool>(false)
        let sweeper = Thread {
            while !stop.load(ordering: .relaxed) { hub.sweep() }
        }
        let publisher = Thread {
            var seq = 0
            while seq < total {
                var events: [StreamEvent] = []
                for _ in 0..<(seq % 3 + 1) where seq < total {
                    seq += 1
                    events.append(StreamEvent(uid: uid, seq: seq, kind: seq == 1 ? .start(epoch: "BUSYRUN1", model: "m") : .delta(text: "x")))
                }
                recorder.deliver(contentsOf: events)
                hub.publishJournaledStream(channel: channel, epoch: "BUSYRUN1", count: events.count) {
                    events.map { StreamPublication(seq: UInt64($0.seq), data: $0.jsonBytes()) }
                }
            }
        }
        sweeper.start()
        publisher.start()
        var seen: [UInt64] = []
        var position = StreamPosition(offset: 0, epoch: "")
        var subscriptions = 0
        while seen.last ?? 0 < UInt64(total), subscriptions < 1_000_000 {
            subscriptions += 1
            let subscriber = RecordingSubscriber()
            let outcome = Mutex<SubscribeOutcome?>(nil)
            hub.subscribe(subscriber, to: channel, recover: position) { reply in outcome.withLock { $0 = reply } }
            guard let reply = outcome.withLock({ $0 }), reply.recovered else {
                Issue.record("not recovered from \(position) at subscription \(subscriptions)")
                break
            }
            seen += reply.publications.map(\.offset)
            for _ in 0..<50 { _ = subscriber.offsets.count }
            hub.unsubscribe(subscriber, from: channel)
            seen += subscriber.offsets
            position = StreamPosition(offset: seen.last ?? 0, epoch: reply.epoch)
        }
        stop.store(true, ordering: .relaxed)
        #expect(seen == (1...UInt64(total)).map { $0 }, "\(subscriptions) subscriptions; first break at \(zip(seen, 1...).first { $0.0 != UInt64($0.1) }.map { "\($0)" } ?? "none")")
        #expect(subscriptions > 10, "the client came and went while the stream ran")
    }
}

private final class RecordingSubscriber: ChannelSubscriber, Sendable {
    private let received = Mutex<[UInt64]>([])

    var offsets: [UInt64] { received.withLock { $0 } }

    func channel(_ name: String, didPublish publication: Publication) {
        received.withLock { $0.append(publication.offset) }
    }

    func clientInfo(in channel: String) -> ClientInfo {
        ClientInfo(client: "c", user: "u")
    }
}
