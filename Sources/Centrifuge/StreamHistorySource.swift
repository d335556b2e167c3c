/// Where the history of stream channels is read from, when the hub does not keep it itself.
///
/// The stream journal holds every event of every stream already, for resuming readers. Keeping a
/// second copy in each stream's channel doubled the memory a finished stream holds, and building
/// it cost a publication per token whether or not anyone ever subscribed.
///
/// The source must hold an event before the stream publishes it into its channel: the hub trusts
/// that everything up to its channel's top offset can be read here.
public protocol StreamHistorySource: Sendable {
    /// Where stream `uid`'s kept run stands: nil when it is not kept (unknown, forgotten, or it
    /// does not publish into its channel).
    func position(ofStream uid: String) -> StreamPosition?

    /// Run `epoch`'s events with seqs `after+1...through`, oldest first, and when its last event
    /// came; nil when that run is not kept.
    func events(
        ofStream uid: String, epoch: String, after: UInt64, through: UInt64
    ) -> (events: [StreamPublication], lastEventAt: ContinuousClock.Instant)?

    /// Hides run `epoch`'s events up to `through` from the channel's history (`history_remove`).
    func hideHistory(ofStream uid: String, epoch: String, through: UInt64)
}
