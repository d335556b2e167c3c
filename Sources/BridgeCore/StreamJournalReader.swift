/// Someone reading one stream's events from the journal (an SSE reader of `GET /v1/streams/{uid}`).
///
/// The methods are called one at a time, in seq order; live events come with the journal's lock
/// held (the replay before them without it), so every method must only enqueue.
public protocol StreamJournalReader: AnyObject, Sendable {
    /// The stream exists (at once, or after the reader waited for it): the replay follows.
    func journalDidAttach(epoch: String)
    func journal(didRecord event: RecordedEvent)
    /// Several events at once, in seq order: the replay of what the reader missed.
    func journal(didReplay events: [RecordedEvent])
    /// The stream ended: nothing follows, the reader is let go.
    func journalDidFinish()
}

extension StreamJournalReader {
    public func journal(didReplay events: [RecordedEvent]) {
        for event in events { journal(didRecord: event) }
    }
}

/// One event as the journal hands it to readers: the event itself (for readers that write another
/// format) and its wire JSON, made when asked.
public struct RecordedEvent: Sendable {
    public let event: StreamEvent

    init(_ event: StreamEvent) {
        self.event = event
    }

    public var seq: Int { event.seq }
    public var type: String { event.type }
    /// The event in the wire schema (made on each call: read it once).
    public var json: [UInt8] { event.jsonBytes() }
    public var isTerminal: Bool { event.isTerminal }
}
