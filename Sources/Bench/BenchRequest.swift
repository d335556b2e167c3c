import BridgeCore

/// What every load's chat request has in common: where it goes and its one user turn.
enum BenchRequest {
    /// `{base}/chat/completions`, tolerating a trailing slash on the base URL (`…/v1`).
    static func completionsURL(base: String) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/chat/completions"
    }

    static let streamingHeaders: [(name: String, value: String)] = [
        (name: "Content-Type", value: "application/json"), (name: "Accept", value: "text/event-stream"),
    ]
}

extension JSONWriter {
    /// `"messages":[{"role":"user","content":…}]`, inside the request object.
    mutating func userMessages(_ content: String) {
        key("messages")
        beginArray()
        beginObject()
        key("role")
        string("user")
        key("content")
        string(content)
        endObject()
        endArray()
    }
}
