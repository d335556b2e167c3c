import BridgeCore


/// The stream journal as the history of the streams' channels: one copy of each stream's events
/// serves both `GET /v1/streams/{uid}` and recovering channel subscribers.
public struct JournalHistory: StreamHistorySource {
    public let journal: StreamJournal

    public init(journal: StreamJournal) {
        self.journal = journal
    }

    public func position(ofStream uid: String) -> StreamPosition? {
        journal.channelPosition(of: uid).map { StreamPosition(offset: UInt64($0.top), epoch: $0.epoch) }
    }

    public func events(
        ofStream uid: String, epoch: String, after: UInt64, through: UInt64
    ) -> (events: [StreamPublication], lastEventAt: ContinuousClock.Instant)? {
        guard
            let kept = journal.channelHistory(
                of: uid, epoch: epoch, after: Int(clamping: after), through: Int(clamping: through))
        else { return nil }
        return (kept.events.map { StreamPublication(seq: UInt64($0.seq), data: $0.json) }, kept.lastRecordedAt)
    }

    public func hideHistory(ofStream uid: String, epoch: String, through: UInt64) {
        journal.hideChannelHistory(of: uid, epoch: epoch, through: Int(clamping: through))
    }
}
