import Synchronization

/// The events of every stream, kept while it runs and for `retention` after it ended, so a reader
/// can attach at any point, resume after a seq, or ask for the assembled answer; readers may even
/// come before the stream does.
///
/// Bounded twice: finished streams leave after `retention`, and while the journal holds more than
/// `maxBytes` the longest finished leave first. Running streams are never dropped (the pipeline
/// bounds how many there are).
public final class StreamJournal: Sendable {
    public enum Status: String, Sendable {
        case running, done, error, cancelled
    }

    /// What `attach` did with a reader.
    public enum Attachment: Sendable, Equatable {
        /// Attached: replayed, and live (or finished) already.
        case attached
        /// No such stream yet: the reader waits for it until `stopWaiting`.
        case waiting
        /// The stream ended and the reader has every event already (it resumed after the last):
        /// nothing was handed to it.
        case alreadyRead
    }

    private struct Entry {
        var uid: String
        var epoch: String
        /// The stream publishes into its channel, whose history is read from here.
        var sharedWithChannel: Bool
        /// Events up to this seq are hidden from the channel's history (the server API removed it).
        var channelHistoryFloor = 0
        var events = CompactEvents()
        var bytes = 0
        var lastRecordedAt: ContinuousClock.Instant
        var finishedAt: ContinuousClock.Instant?
        var readers: [ObjectIdentifier: Attached] = [:]

        var status: Status {
            guard let last = events.lastOther, last.isTerminal else { return .running }
            switch last.kind {
            case .cancelled: return .cancelled
            case .error: return .error
            default: return .done
            }
        }

        /// Keeps one event and hands it to the readers; returns how many bytes the entry grew by.
        mutating func record(_ event: StreamEvent, now: ContinuousClock.Instant) -> Int {
            let before = events.byteCount
            events.append(event)
            let isTerminal = event.isTerminal
            if isTerminal { events.shrinkToFit() }
            let size = events.byteCount - before
            bytes += size
            lastRecordedAt = now
            // Most streams have no reader here (their caller reads its own answer): no copy then.
            guard !readers.isEmpty else {
                if isTerminal { finishedAt = now }
                return size
            }
            let recorded = RecordedEvent(event)
            for attached in readers.values where recorded.seq > attached.after {
                if let catchUp = attached.catchingUp {
                    catchUp.pending.append(recorded)
                } else {
                    attached.reader.journal(didRecord: recorded)
                }
            }
            if recorded.isTerminal {
                for attached in readers.values {
                    if let catchUp = attached.catchingUp {
                        catchUp.finished = true
                    } else {
                        attached.reader.journalDidFinish()
                    }
                }
                // A reader still being replayed to is finished by its `attach`, which holds its CatchUp.
                readers = [:]
                finishedAt = now
            }
            return size
        }

        /// Folded from the events when asked: `/result` is asked once per stream at most, while
        /// keeping the answer assembled would append every token a second time as it arrives.
        var result: StreamResult {
            var result = StreamResult(uid: uid)
            for event in events.events(in: 0..<events.count, uid: uid) { result.apply(event) }
            return result
        }
    }

    /// A reader of a running stream, and while its replay is under way outside the lock, what
    /// came meanwhile.
    private struct Attached {
        let reader: any StreamJournalReader
        /// Live events are those after this seq.
        var after: Int
        var catchingUp: CatchUp?
        /// The run the reader's `after` counts in, when it said; a waiting reader of another run
        /// gets the one that starts from its beginning.
        var epoch: String?

        func starting(run epoch: String) -> Attached {
            guard let asked = self.epoch, asked != epoch else { return self }
            var fresh = self
            fresh.after = 0
            return fresh
        }
    }

    /// What a running stream recorded while a reader's replay went on outside the lock. Touched
    /// only with the journal's lock held.
    private final class CatchUp: @unchecked Sendable {
        var pending: [RecordedEvent] = []
        var finished = false
    }

    /// What `attach` found under the lock, to replay after it.
    private enum AttachPlan {
        case waiting
        case alreadyRead
        case replay(events: CompactEvents, uid: String, epoch: String, range: Range<Int>, catchUp: CatchUp?)
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Readers that came before their stream, by uid.
        var waiting: [String: [ObjectIdentifier: Attached]] = [:]
        /// Finished streams, oldest first; an entry that started again since is skipped.
        var finishedOrder: [(uid: String, at: ContinuousClock.Instant)] = []
        var oldestFinished = 0
        var bytes = 0
    }

    public let retention: Duration
    public let maxBytes: Int
    /// What a stream costs before its first event (its entry, uid, result).
    static let entryOverhead = 512
    private let state = Mutex(State())

    public init(retention: Duration, maxBytes: Int = 16 << 20) {
        self.retention = retention
        self.maxBytes = maxBytes
    }

    /// The sink that records one stream (the pipeline gives one to every run).
    ///
    /// - Parameter sharedWithChannel: the stream also publishes into its channel, and that
    ///   channel's history is read from here (`channelHistory`).
    public func sink(for uid: String, sharedWithChannel: Bool = false) -> any EventSink {
        JournalSink(journal: self, uid: uid, sharedWithChannel: sharedWithChannel)
    }

    /// Bytes held for all streams (estimated), for metrics.
    public var heldBytes: Int { state.withLock { $0.bytes } }

    public var streamCount: Int { state.withLock { $0.entries.count } }

    /// Readers waiting for a stream that has not started.
    public var waitingReaderCount: Int { state.withLock { $0.waiting.values.reduce(0) { $0 + $1.count } } }

    /// Hands `reader` the events after seq `after` and then each new one; when the stream is
    /// unknown, it waits for it (the caller ends the wait with `stopWaiting`). `after` counts in
    /// run `epoch` when one is given: for another run (the uid was answered again) the reader
    /// gets the current run from its `start`, which tells it to drop what it had.
    ///
    /// The replay is made and handed over after the lock is let go (every running stream records
    /// under it, and a long answer takes milliseconds to replay); what the stream records
    /// meanwhile is held for the reader and handed over, under the lock, before it goes live.
    public func attach(
        _ reader: any StreamJournalReader, uid: String, after requested: Int, epoch: String? = nil, now: ContinuousClock.Instant = .now
    ) -> Attachment {
        let plan = state.withLock { state -> AttachPlan in
            prune(&state, now: now)
            guard let index = state.entries.index(forKey: uid) else {
                state.waiting[uid, default: [:]][ObjectIdentifier(reader)] = Attached(reader: reader, after: requested, epoch: epoch)
                return .waiting
            }
            let entry = state.entries.values[index]
            let sameRun = epoch.map { $0 == entry.epoch } ?? true
            let after = sameRun ? requested : 0
            let events = entry.events
            if entry.finishedAt != nil, let last = events.lastSeq, after >= last { return .alreadyRead }
            let range = events.position(after: after)..<events.count
            var catchUp: CatchUp?
            if entry.finishedAt == nil {
                let live = CatchUp()
                catchUp = live
                let seen = max(after, events.lastSeq ?? 0)
                state.entries.values[index].readers[ObjectIdentifier(reader)] = Attached(reader: reader, after: seen, catchingUp: live)
            }
            return .replay(events: events, uid: uid, epoch: entry.epoch, range: range, catchUp: catchUp)
        }
        switch plan {
        case .waiting:
            return .waiting
        case .alreadyRead:
            return .alreadyRead
        case .replay(let events, let uid, let epoch, let range, let catchUp):
            reader.journalDidAttach(epoch: epoch)
            if !range.isEmpty { reader.journal(didReplay: events.events(in: range, uid: uid).map(RecordedEvent.init)) }
            guard let catchUp else {
                reader.journalDidFinish()
                return .attached
            }
            state.withLock { state in
                if !catchUp.pending.isEmpty { reader.journal(didReplay: catchUp.pending) }
                if catchUp.finished {
                    reader.journalDidFinish()
                } else if let index = state.entries.index(forKey: uid), let attached = state.entries.values[index].readers[ObjectIdentifier(reader)],
                    attached.catchingUp === catchUp
                {
                    state.entries.values[index].readers[ObjectIdentifier(reader)]?.catchingUp = nil
                }
                catchUp.pending = []
            }
            return .attached
        }
    }

    /// Ends a wait: true if the reader was still waiting (its stream never came).
    public func stopWaiting(_ reader: any StreamJournalReader, uid: String) -> Bool {
        state.withLock { state in
            guard state.waiting[uid]?.removeValue(forKey: ObjectIdentifier(reader)) != nil else { return false }
            if state.waiting[uid]?.isEmpty == true { state.waiting[uid] = nil }
            return true
        }
    }

    /// Lets a reader go (its client left).
    public func detach(_ reader: any StreamJournalReader, uid: String) {
        state.withLock { state in
            state.entries[uid]?.readers[ObjectIdentifier(reader)] = nil
            state.waiting[uid]?[ObjectIdentifier(reader)] = nil
            if state.waiting[uid]?.isEmpty == true { state.waiting[uid] = nil }
        }
    }

    /// The answer so far (or whole), its status and epoch; nil for a stream unknown or forgotten.
    public func result(of uid: String, now: ContinuousClock.Instant = .now) -> (result: StreamResult, status: Status, epoch: String)? {
        // Folded after the lock is let go, from a copy that shares the entry's storage (a running
        // stream's next record then copies its buffers once, under the lock: a memcpy, where
        // folding is the dear part).
        let entry = state.withLock { state in
            prune(&state, now: now)
            return state.entries[uid]
        }
        return entry.map { ($0.result, $0.status, $0.epoch) }
    }

    // MARK: - The channel's view

    /// Where a stream's kept run stands as its channel's history: its epoch and last seq. nil when
    /// the stream is unknown, forgotten, or does not publish into its channel.
    public func channelPosition(of uid: String) -> (epoch: String, top: Int)? {
        state.withLock { state in
            guard let entry = state.entries[uid], entry.sharedWithChannel else { return nil }
            return (entry.epoch, entry.events.lastSeq ?? 0)
        }
    }

    /// The events of run `epoch` with seqs `after+1...through`, oldest first, as its channel's
    /// history shows them, and when the run's last event came. nil when that run is not kept.
    public func channelHistory(
        of uid: String, epoch: String, after: Int, through: Int
    ) -> (events: [RecordedEvent], lastRecordedAt: ContinuousClock.Instant)? {
        // The events are copied out (their storage shared; a running stream's next record then
        // copies its buffers once, a memcpy) and made again after the lock is let go: every
        // running stream records under this lock.
        let kept = state.withLock { state -> (events: CompactEvents, range: Range<Int>, at: ContinuousClock.Instant)? in
            guard let entry = state.entries[uid], entry.sharedWithChannel, entry.epoch == epoch else { return nil }
            let first = entry.events.position(after: max(after, entry.channelHistoryFloor))
            let end = max(first, entry.events.position(after: through))
            return (entry.events, first..<end, entry.lastRecordedAt)
        }
        guard let kept else { return nil }
        return (kept.events.events(in: kept.range, uid: uid).map(RecordedEvent.init), kept.at)
    }

    /// Hides run `epoch`'s events up to `through` from its channel's history; resuming readers
    /// still get them.
    public func hideChannelHistory(of uid: String, epoch: String, through: Int) {
        state.withLock { state in
            guard let index = state.entries.index(forKey: uid), state.entries.values[index].epoch == epoch else { return }
            state.entries.values[index].channelHistoryFloor = max(state.entries.values[index].channelHistoryFloor, through)
        }
    }

    // MARK: - Recording

    fileprivate func record(_ event: StreamEvent, uid: String, sharedWithChannel: Bool, now: ContinuousClock.Instant = .now) {
        record(contentsOf: [event], uid: uid, sharedWithChannel: sharedWithChannel, now: now)
    }

    /// One lock and one lookup for a run of events of one stream.
    fileprivate func record(
        contentsOf events: [StreamEvent], uid: String, sharedWithChannel: Bool, now: ContinuousClock.Instant = .now
    ) {
        // Read in place: iterating the array copied (retained, then released) every event.
        events.withUnsafeBufferPointer { events in
            state.withLock { state in
                // Each event changes its entry in place through the index: the entry is never
                // copied. Removing entries (a new run, pruning) moves the others, so the index is
                // found again.
                var index = state.entries.index(forKey: uid)
                for position in events.indices {
                    if case .start(let epoch, _) = events[position].kind {
                        begin(uid: uid, epoch: epoch, sharedWithChannel: sharedWithChannel, now: now, in: &state)
                        index = state.entries.index(forKey: uid)
                    }
                    guard let current = index else { continue }
                    state.bytes += state.entries.values[current].record(events[position], now: now)
                    if events[position].isTerminal {
                        state.finishedOrder.append((uid, now))
                        prune(&state, now: now)
                        index = state.entries.index(forKey: uid)
                    }
                }
            }
        }
    }

    /// A run of `uid` starts: a new entry, with any readers that waited for it.
    private func begin(uid: String, epoch: String, sharedWithChannel: Bool, now: ContinuousClock.Instant, in state: inout State) {
        prune(&state, now: now)
        // A new run of the uid starts over; readers of the old one were let go when it ended.
        if let old = state.entries.removeValue(forKey: uid) { state.bytes -= old.bytes }
        var entry = Entry(uid: uid, epoch: epoch, sharedWithChannel: sharedWithChannel, lastRecordedAt: now)
        entry.bytes = Self.entryOverhead
        state.bytes += Self.entryOverhead
        if let waiting = state.waiting.removeValue(forKey: uid) {
            entry.readers = waiting.mapValues { $0.starting(run: epoch) }
            for attached in waiting.values { attached.reader.journalDidAttach(epoch: epoch) }
        }
        state.entries[uid] = entry
    }

    /// Forgets finished streams past their retention, then the longest finished while over budget.
    private func prune(_ state: inout State, now: ContinuousClock.Instant) {
        while state.oldestFinished < state.finishedOrder.count {
            let (uid, at) = state.finishedOrder[state.oldestFinished]
            guard now - at >= retention || state.bytes > maxBytes else { break }
            state.oldestFinished += 1
            if let entry = state.entries[uid], entry.finishedAt == at {
                state.entries[uid] = nil
                state.bytes -= entry.bytes
            }
        }
        if state.oldestFinished > 1024, state.oldestFinished * 2 > state.finishedOrder.count {
            state.finishedOrder.removeFirst(state.oldestFinished)
            state.oldestFinished = 0
        }
    }
}

/// Records one stream's events into the journal.
private struct JournalSink: EventSink {
    let journal: StreamJournal
    let uid: String
    let sharedWithChannel: Bool
    var name: String { "journal" }

    func deliver(_ event: StreamEvent) {
        journal.record(event, uid: uid, sharedWithChannel: sharedWithChannel)
    }

    func deliver(contentsOf events: [StreamEvent]) {
        journal.record(contentsOf: events, uid: uid, sharedWithChannel: sharedWithChannel)
    }
}
