import BridgeCore

/// The streams' channels whose history `streamHistory` (the stream journal) keeps: publishing to
/// their subscribers only, where a channel made anew starts, and reading their history.
extension ChannelHub {
    /// The stream uid a channel under the stream prefix stands for, when `streamHistory` is
    /// given; whether it keeps that stream is for it to say.
    func journaledStream(_ name: String) -> String? {
        guard streamHistory != nil, isStreamChannel(name) else { return nil }
        return String(name.dropFirst(configuration.streamPrefix.count))
    }

    /// Where a channel made anew starts: a journaled stream's kept run, else where a retired
    /// channel of that name stood.
    func startingPosition(of name: String, retired: inout RetiredPositions) -> RetiredPositions.Position? {
        let retiredPosition = retired.takeBack(name, now: .now)
        if let uid = journaledStream(name), let kept = streamHistory?.position(ofStream: uid) {
            let prior = retiredPosition?.epoch == kept.epoch ? retiredPosition?.emptyPriorEpoch : nil
            return RetiredPositions.Position(epoch: kept.epoch, top: kept.offset, emptyPriorEpoch: prior)
        }
        return retiredPosition
    }

    /// Publishes a stream's events whose history `streamHistory` keeps (recorded there before
    /// they come here): they go to the channel's subscribers only. With none there is no channel
    /// and nothing to do; a subscriber who comes later recovers from the journal. Without a
    /// `streamHistory`, the same as `publishStream`.
    ///
    /// - Parameter events: made only when the channel exists (`count` of them).
    public func publishJournaledStream(
        channel name: String, epoch: String, count: Int, events: () -> [StreamPublication]
    ) {
        guard streamHistory != nil else { return publishStream(channel: name, epoch: epoch, events: events()) }
        guard let channel = channel(name) else {
            publishedCount.add(count, ordering: .relaxed)
            return
        }
        // Made before the channel's lock is taken: its subscribers wait on it.
        let publications = events()
        channel.state.withLock { state in
            // Dropped by the sweeper since the lookup: it had no subscribers.
            guard !state.removed else {
                publishedCount.add(count, ordering: .relaxed)
                return
            }
            publish(publications, epoch: epoch, into: &state, of: channel, keepingHistory: false)
        }
    }

    /// What a channel holds after `offset`: its own history or, having none, its stream's in the
    /// journal. (A stream channel may keep its own: `/api/execute` publishes text messages there.)
    func publications(of name: String, in state: Channel.State, after offset: UInt64) -> [Publication] {
        if state.history.isEmpty, let uid = journaledStream(name) {
            return journaledHistory(of: uid, channel: name, epoch: state.epoch, top: state.top, after: offset)
        }
        return state.history.after(offset)
    }

    /// A journaled stream's history after `offset` up to `top` (for a channel, everything it
    /// published), within `historySize` and `historyTTL` as a channel's own would be.
    func journaledHistory(
        of uid: String, channel name: String, epoch: String, top: UInt64, after offset: UInt64,
        now: ContinuousClock.Instant = .now
    ) -> [Publication] {
        let size = UInt64(configuration.historySize)
        let oldestKept = top > size ? top - size : 0
        guard let source = streamHistory, top > offset,
            let kept = source.events(ofStream: uid, epoch: epoch, after: max(offset, oldestKept), through: top),
            now - kept.lastEventAt < configuration.historyTTL
        else { return [] }
        return kept.events.map { Publication(channel: name, offset: $0.seq, data: $0.data, encodingPush: false) }
    }
}
