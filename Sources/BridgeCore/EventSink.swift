/// Where a stream's events go: an HTTP caller's SSE, a response queue, a channel, Centrifugo.
///
/// `deliver` is called in seq order for one stream, from whichever thread produced the event, while
/// the stream's lock is held: it must only enqueue and return, never block or call back into the
/// pipeline.
public protocol EventSink: Sendable {
    var name: String { get }
    func deliver(_ event: StreamEvent)
    /// Several events in a row, as one piece of the model's output brought them (a busy stream
    /// brings many per read). Same rules as `deliver`; a sink that pays per call (a lock, a
    /// wake-up, a message) handles them together, the others take them one by one.
    func deliver(contentsOf events: [StreamEvent])
    /// This sink's readers get the stream's history from the journal rather than from the sink
    /// (the embedded channel server): the journal then serves it to them.
    var readsHistoryFromJournal: Bool { get }
}

extension EventSink {
    public var readsHistoryFromJournal: Bool { false }

    public func deliver(contentsOf events: [StreamEvent]) {
        for event in events { deliver(event) }
    }
}
