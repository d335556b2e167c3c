import BridgeCore
import Synchronization

/// Every channel of the embedded server: publishing (fan-out to subscribers, history),
/// subscribing with recovery, history and presence queries. No I/O: subscribers enqueue.
///
/// Lock order: the hub's map, then a channel, then the stream journal (`streamHistory`) or a
/// subscriber's own lock; never the other way.
public final class ChannelHub: Sendable {
    public struct Configuration: Sendable {
        /// Publications kept per channel.
        public var historySize: Int
        /// History is dropped this long after a channel's last publication.
        public var historyTTL: Duration
        /// The most publications a recovering subscribe returns; beyond, it is not recovered.
        public var recoveryLimit: Int
        /// How long an idempotency key of the server API is remembered.
        public var idempotencyWindow: Duration
        /// History of all channels that keep their own together at most (estimated from the
        /// publications' sizes; a stream's channel with a `streamHistory` keeps none). Beyond it,
        /// whole histories go, least recently published first, until 90% is left: with the
        /// per-channel bounds alone, many long answers within `historyTTL` could hold any amount
        /// of memory.
        public var maxHistoryBytes: Int
        /// Channels under this prefix belong to streams: their offsets are the stream's seqs, so
        /// anything else published there (server API, clients) goes to subscribers live only,
        /// without an offset and outside history.
        public var streamPrefix: String
        /// How long a dropped channel's position (epoch and top offset) outlives it.
        public var historyMetaTTL: Duration

        public init(
            historySize: Int = 10_000, historyTTL: Duration = .seconds(600), recoveryLimit: Int? = nil,
            idempotencyWindow: Duration = .seconds(300), maxHistoryBytes: Int = 256 << 20, streamPrefix: String = "stream_",
            historyMetaTTL: Duration = .seconds(86_400)
        ) {
            self.streamPrefix = streamPrefix
            self.historyMetaTTL = historyMetaTTL
            self.historySize = historySize
            self.historyTTL = historyTTL
            self.recoveryLimit = recoveryLimit ?? historySize
            self.idempotencyWindow = idempotencyWindow
            self.maxHistoryBytes = maxHistoryBytes
        }
    }

    /// The channels by name, and where dropped ones stood.
    private struct Directory {
        var channels: [String: Channel] = [:]
        var retired: RetiredPositions
    }

    public let configuration: Configuration
    /// Where stream channels' history is read from; nil: the hub keeps it in each channel.
    public let streamHistory: (any StreamHistorySource)?
    private let directory: Mutex<Directory>
    let publishedCount = Atomic<Int>(0)
    private let historyByteCount = Atomic<Int>(0)
    private let evictedHistories = Atomic<Int>(0)
    /// One thread trims at a time; the others go on publishing.
    private let trimming = Atomic<Bool>(false)
    /// Taken under a channel's lock (after it), never the other way round.
    private let recency = Mutex(RecencyList())

    /// - Parameter streamHistory: where stream channels' history is read from (the stream
    ///   journal). Their channels then keep none, and exist only while someone subscribes.
    public init(configuration: Configuration = Configuration(), streamHistory: (any StreamHistorySource)? = nil) {
        self.configuration = configuration
        self.streamHistory = streamHistory
        directory = Mutex(Directory(retired: RetiredPositions(ttl: configuration.historyMetaTTL)))
    }

    /// Publications accepted so far (for metrics).
    public var publications: Int { publishedCount.load(ordering: .relaxed) }
    /// The estimated size of all history held, against `maxHistoryBytes`.
    public var historyBytes: Int { historyByteCount.load(ordering: .relaxed) }
    /// Channels in the recency list (tests check it holds exactly those with history).
    var recencyListLength: Int { recency.withLock { $0.count } }
    /// Channel histories dropped to stay within `maxHistoryBytes`.
    public var historyEvictions: Int { evictedHistories.load(ordering: .relaxed) }

    func channel(_ name: String) -> Channel? {
        directory.withLock { $0.channels[name] }
    }

    func isStreamChannel(_ name: String) -> Bool {
        !configuration.streamPrefix.isEmpty && name.hasPrefix(configuration.streamPrefix)
    }

    /// Runs `body` under the lock of channel `name`, made (or made again from its retired
    /// position) when missing. The map lock is let go before the channel's is taken, so the
    /// sweeper may drop the channel in between: then it is looked up again.
    private func withLiveChannel<Result>(_ name: String, _ body: (inout Channel.State, Channel) -> Result) -> Result {
        while true {
            let channel = directory.withLock { directory -> Channel in
                if let existing = directory.channels[name] { return existing }
                let restored = startingPosition(of: name, retired: &directory.retired)
                let channel = Channel(name: name, historySize: configuration.historySize, restoring: restored)
                directory.channels[name] = channel
                return channel
            }
            var result: Result?
            channel.state.withLock { state in
                if !state.removed { result = body(&state, channel) }
            }
            if let result { return result }
        }
    }

    // MARK: - Publishing

    /// Publishes at the next offset (the server API, client publishes). A repeated
    /// `idempotencyKey` within the window publishes nothing and returns the first offset.
    /// Into a stream's channel: live only (see `Configuration.streamPrefix`).
    @discardableResult
    public func publish(
        channel name: String, data: [UInt8], tags: [(key: String, value: String)] = [], idempotencyKey: String? = nil,
        skipHistory requestedSkip: Bool = false
    ) -> StreamPosition {
        let skipHistory = requestedSkip || isStreamChannel(name)
        let now = ContinuousClock.now
        defer { trimHistoryIfOverBudget() }
        return withLiveChannel(name) { state, channel in
            if let key = idempotencyKey {
                state.idempotency = state.idempotency.filter { now - $0.value.at < configuration.idempotencyWindow }
                if let earlier = state.idempotency[key] { return StreamPosition(offset: earlier.offset, epoch: state.epoch) }
            }
            let offset = state.top + 1
            let publication = Publication(
                channel: name, offset: skipHistory ? 0 : offset, data: data, tags: tags,
                encodingPush: !state.subscribers.isEmpty)
            if !skipHistory {
                state.top = offset
                keepingCount(&state, of: channel, published: true) { $0.append(publication) }
                state.lastPublish = now
            }
            if let key = idempotencyKey { state.idempotency[key] = (offset, now) }
            deliver(publication, to: state.subscribers, channel: name)
            return StreamPosition(offset: skipHistory ? 0 : offset, epoch: state.epoch)
        }
    }

    /// Publishes a stream's event at its seq under its run's epoch. A new epoch starts the
    /// channel over (a rerun): history from the old run goes, recovering clients of it are told
    /// they must start again (not recovered). Live subscribers go on receiving: the new run
    /// begins with its `start` event.
    public func publishStream(channel name: String, epoch: String, seq: UInt64, data: [UInt8], delta: StreamDelta? = nil) {
        publishStream(channel: name, epoch: epoch, events: [StreamPublication(seq: seq, data: data, delta: delta)])
    }

    /// One stream's events in seq order, under one lookup and one lock of the channel.
    public func publishStream(channel name: String, epoch: String, events: [StreamPublication]) {
        defer { trimHistoryIfOverBudget() }
        withLiveChannel(name) { state, channel in
            publish(events, epoch: epoch, into: &state, of: channel, keepingHistory: true)
        }
    }

    /// A stream's events at their seqs under its run's `epoch`, to the subscribers and, when
    /// `keepingHistory`, into the channel's own history. A seq at or below the top was published
    /// already (never twice).
    func publish(
        _ events: [StreamPublication], epoch: String, into state: inout Channel.State, of channel: Channel, keepingHistory: Bool
    ) {
        if state.epoch != epoch {
            // Nothing published under the old epoch: a position in it is a position in this one.
            state.emptyPriorEpoch = state.top == 0 ? state.epoch : nil
            state.epoch = epoch
            state.top = 0
            // Whatever the channel kept of the old run goes, in either mode: a journaled stream's
            // channel may hold text an earlier `/api/execute` published there.
            keepingCount(&state, of: channel) { $0.removeAll() }
        }
        let now = ContinuousClock.now
        for event in events {
            guard event.seq > state.top else { continue }
            let publication = Publication(
                channel: channel.name, offset: event.seq, data: event.data, delta: event.delta,
                encodingPush: !state.subscribers.isEmpty)
            state.top = event.seq
            if keepingHistory {
                keepingCount(&state, of: channel, published: true) { $0.append(publication) }
                state.lastPublish = now
            }
            deliver(publication, to: state.subscribers, channel: channel.name)
        }
    }

    private func deliver(_ publication: Publication, to subscribers: [ObjectIdentifier: any ChannelSubscriber], channel: String) {
        publishedCount.add(1, ordering: .relaxed)
        for subscriber in subscribers.values { subscriber.channel(channel, didPublish: publication) }
    }

    // MARK: - Subscribing

    /// Subscribes and computes the recovery in one step under the channel's lock, then runs
    /// `reply` still under it, so the subscribe reply is queued before any live publication.
    ///
    /// - Parameter recover: the client's last position; nil subscribes from the top.
    public func subscribe(
        _ subscriber: any ChannelSubscriber, to name: String, recover: StreamPosition?, reply: (SubscribeOutcome) -> Void
    ) {
        withLiveChannel(name) { state, _ in
            var outcome = SubscribeOutcome(epoch: state.epoch, offset: state.top, recovered: false, publications: [])
            if let position = recover { outcome = recovery(from: position, in: state, channel: name) }
            state.subscribers[ObjectIdentifier(subscriber)] = subscriber
            reply(outcome)
        }
    }

    /// Centrifugo's rule: recovered when the epoch matches (or none was given) and the missed
    /// publications from just after `position` up to the top are all still in history and within
    /// the recovery limit. A partial catch-up is never returned.
    private func recovery(from position: StreamPosition, in state: Channel.State, channel name: String) -> SubscribeOutcome {
        var outcome = SubscribeOutcome(epoch: state.epoch, offset: state.top, recovered: false, publications: [])
        // A subscriber at offset 0 of a stream's channel has seen nothing of any run: the current
        // one from its start is what it missed, whatever epoch the channel had when it came (the
        // empty channel it subscribed to may have been dropped and made again since).
        let fromNothing = position.offset == 0 && isStreamChannel(name)
        let epochMatches =
            position.epoch.isEmpty || fromNothing || position.epoch == state.epoch || position.epoch == state.emptyPriorEpoch
        guard epochMatches else { return outcome }
        guard position.offset < state.top else {
            outcome.recovered = position.offset == state.top
            return outcome
        }
        // Offsets run one by one, so this many were missed: past the limit, nothing to read.
        guard state.top - position.offset <= UInt64(max(0, configuration.recoveryLimit)) else { return outcome }
        let missed = publications(of: name, in: state, after: position.offset)
        guard let first = missed.first, first.offset == position.offset + 1, missed.count <= configuration.recoveryLimit,
            missed.last?.offset == state.top
        else { return outcome }
        outcome.recovered = true
        outcome.publications = missed
        return outcome
    }

    public func unsubscribe(_ subscriber: any ChannelSubscriber, from name: String) {
        guard let channel = channel(name) else { return }
        channel.state.withLock { $0.subscribers[ObjectIdentifier(subscriber)] = nil }
    }

    // MARK: - Queries

    /// `limit` 0: only the position; -1 (or above the recovery limit): as many as the limit
    /// allows; N: the first N (newest first when `reverse`). `since` must name this epoch (112).
    public func history(channel name: String, limit: Int, since: StreamPosition?, reverse: Bool) -> Result<HistoryPage, ReplyError> {
        guard let channel = channel(name) else {
            if let uid = journaledStream(name), let kept = streamHistory?.position(ofStream: uid) {
                let all = limit == 0 ? [] : journaledHistory(of: uid, channel: name, epoch: kept.epoch, top: kept.offset, after: 0)
                return page(of: all, epoch: kept.epoch, top: kept.offset, limit: limit, since: since, reverse: reverse)
            }
            let retired = directory.withLock { $0.retired.position(of: name, now: .now) }
            return .success(HistoryPage(epoch: retired?.epoch ?? Channel.newEpoch(), offset: retired?.top ?? 0, publications: []))
        }
        return channel.state.withLock { state in
            // Limit 0 asks for the position alone.
            let all = limit == 0 ? [] : publications(of: name, in: state, after: 0)
            return page(of: all, epoch: state.epoch, top: state.top, limit: limit, since: since, reverse: reverse)
        }
    }

    /// The part of a channel's history (`all`, oldest first) that a history query asks for.
    private func page(
        of all: [Publication], epoch: String, top: UInt64, limit: Int, since: StreamPosition?, reverse: Bool
    ) -> Result<HistoryPage, ReplyError> {
        if let since, !since.epoch.isEmpty, since.epoch != epoch { return .failure(.unrecoverablePosition) }
        var selected = all
        if let since {
            selected = reverse ? selected.filter { $0.offset < since.offset } : selected.filter { $0.offset > since.offset }
        }
        if reverse { selected.reverse() }
        let cap = limit < 0 ? configuration.recoveryLimit : min(limit, configuration.recoveryLimit)
        return .success(HistoryPage(epoch: epoch, offset: top, publications: Array(selected.prefix(cap))))
    }

    public func removeHistory(channel name: String) {
        if let uid = journaledStream(name) {
            let live = channel(name)?.state.withLock { state in state.removed ? nil : StreamPosition(offset: state.top, epoch: state.epoch) }
            if let position = live ?? streamHistory?.position(ofStream: uid) {
                streamHistory?.hideHistory(ofStream: uid, epoch: position.epoch, through: position.offset)
            }
        }
        guard let channel = channel(name) else { return }
        channel.state.withLock { state in keepingCount(&state, of: channel) { $0.removeAll() } }
    }

    public func presence(channel name: String) -> [ClientInfo] {
        channel(name)?.state.withLock { $0.subscribers.values.map { $0.clientInfo(in: name) } } ?? []
    }

    /// Channels with at least one subscriber, and how many clients each has.
    public func activeChannels() -> [(name: String, clients: Int)] {
        let all = directory.withLock { Array($0.channels.values) }
        return all.compactMap { channel in
            let count = channel.state.withLock { $0.subscribers.count }
            return count > 0 ? (channel.name, count) : nil
        }
    }

    public var channelCount: Int { directory.withLock { $0.channels.count } }

    // MARK: - Upkeep

    /// Drops history that outlived `historyTTL`, and channels with neither history nor
    /// subscribers (keeping where they stood, for `historyMetaTTL`).
    public func sweep(now: ContinuousClock.Instant = .now) {
        let all = directory.withLock { Array($0.channels.values) }
        var idle: [String] = []
        for channel in all {
            let empty = channel.state.withLock { state -> Bool in
                if let last = state.lastPublish, now - last >= configuration.historyTTL {
                    keepingCount(&state, of: channel) { $0.removeAll() }
                    state.lastPublish = nil
                }
                state.idempotency = state.idempotency.filter { now - $0.value.at < configuration.idempotencyWindow }
                return state.subscribers.isEmpty && state.history.isEmpty && state.idempotency.isEmpty
            }
            if empty { idle.append(channel.name) }
        }
        guard !idle.isEmpty else { return }
        directory.withLock { directory in
            for name in idle {
                guard let channel = directory.channels[name] else { continue }
                let position = channel.state.withLock { state -> RetiredPositions.Position? in
                    // Subscribed or published to again in the meantime? Keep it.
                    guard state.subscribers.isEmpty, state.history.isEmpty, state.idempotency.isEmpty else { return nil }
                    state.removed = true
                    return RetiredPositions.Position(epoch: state.epoch, top: state.top, emptyPriorEpoch: state.emptyPriorEpoch)
                }
                guard let position else { continue }
                directory.channels[name] = nil
                directory.retired.retire(name, position, now: now)
            }
        }
    }

    // MARK: - History budget

    /// Changes a channel's history (under its lock), carries the size change to the total, and
    /// keeps the channel's place in the recency list: in it exactly while it has history, and at
    /// the back after each publication (`published`).
    private func keepingCount(
        _ state: inout Channel.State, of channel: Channel, published: Bool = false, _ change: (inout HistoryRing) -> Void
    ) {
        let before = state.history.bytes
        change(&state.history)
        let delta = state.history.bytes - before
        if delta != 0 { historyByteCount.add(delta, ordering: .relaxed) }
        switch (state.recencySlot, state.history.isEmpty) {
        case (let slot?, true):
            recency.withLock { $0.remove(slot) }
            state.recencySlot = nil
        case (nil, false):
            state.recencySlot = recency.withLock { $0.append(channel) }
        case (let slot?, false) where published:
            recency.withLock { $0.touch(slot) }
        default:
            break
        }
    }

    /// Over `maxHistoryBytes`: drops whole histories, least recently published first, down to
    /// 90% of it. Called after a publish, outside any channel lock.
    private func trimHistoryIfOverBudget() {
        let budget = configuration.maxHistoryBytes
        guard historyBytes > budget, !trimming.exchange(true, ordering: .acquiring) else { return }
        defer { trimming.store(false, ordering: .releasing) }
        let target = budget / 10 * 9
        // Bounded, in case publishers keep the front busy: the next publish trims again.
        var passes = recency.withLock { $0.count } + 16
        while historyBytes > target, passes > 0 {
            passes -= 1
            guard let (channel, slot) = recency.withLock({ $0.oldest }) else { break }
            // Between the two locks it may have published (it is no longer the oldest, and the
            // next pass finds the one that is) or lost its history; only its own slot is evicted.
            channel.state.withLock { state in
                guard state.recencySlot == slot, !state.history.isEmpty else { return }
                keepingCount(&state, of: channel) { $0.removeAll() }
                evictedHistories.add(1, ordering: .relaxed)
            }
        }
    }
}
