/// The messages of the Centrifugo AI example (`POST /api/execute`): `{"text": <token>, "done":
/// false}` per piece of answer text, then `{"done": true}`. Its page appends `text` while `done` is
/// false and unsubscribes at `done`; an error ends with the error as text, so the page shows it.
public enum TextChannelMessage {
    /// The message for `event`; nil for events the example has no message for (start, reasoning,
    /// tool calls).
    public static func data(for event: StreamEvent) -> [UInt8]? {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        switch event.kind {
        case .delta(let text):
            writer.key("text")
            writer.string(text)
        case .done:
            break
        case .error(let failure):
            writer.key("text")
            writer.string("Error: \(failure.message)")
            writer.key("error")
            failure.write(to: &writer)
        case .cancelled:
            writer.key("cancelled")
            writer.bool(true)
        case .start, .reasoning, .toolCall:
            return nil
        }
        writer.key("done")
        writer.bool(event.isTerminal)
        writer.endObject()
        return writer.bytes
    }
}
