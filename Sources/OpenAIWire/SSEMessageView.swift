/// A dispatched message as the decoder holds it: its data still bytes, valid only during the
/// call it is handed to. Readers that parse the data themselves skip making a String of it.
public struct SSEMessageView {
    /// The `event:` field, or `"message"` when the event named none.
    public let event: String
    /// The `data:` lines joined by `\n`, as they came (not checked as UTF-8).
    public let data: UnsafeRawBufferPointer
    /// The last event id seen on the stream so far.
    public let id: String?

    /// The message with its data decoded, as the spec says: invalid UTF-8 becomes U+FFFD.
    public var message: SSEMessage {
        SSEMessage(event: event, data: String(decoding: data, as: UTF8.self), id: id)
    }
}
