/// One dispatched Server-Sent Events message.
public struct SSEMessage: Sendable, Equatable {
    /// The `event:` field, or `"message"` when the event named none (as `EventSource` reports it).
    public var event: String
    /// The `data:` lines joined by `\n`.
    public var data: String
    /// The last event id seen on the stream so far (it persists across messages, per the spec);
    /// nil until an `id:` field arrives.
    public var id: String?

    public init(event: String = "message", data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}
