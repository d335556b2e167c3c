/// Where a stream's events go: an HTTP caller's SSE, a response queue, a channel, Centrifugo.
///
/// `deliver` is called in seq order for one stream, from whichever thread produced the event, while
/// the stream's lock is held: it must only enqueue and return, never block or call back into the
/// pipeline.
public protocol EventSink: Sendable {
    var name: String { get }
    func deliver(_ event: StreamEvent)
}
