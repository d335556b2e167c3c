import BridgeCore

/// Turns one stream's events into OpenAI `chat.completion.chunk` JSON, for an HTTP caller that
/// asked for `stream: true`. One encoder per response: `id` and `created` stay fixed for the
/// stream, as OpenAI's do.
///
/// Payloads are returned unframed; wrap each with `SSEFrame.data` and end the response with
/// `SSEFrame.done`.
public struct ChatChunkEncoder: Sendable {
    /// `chatcmpl-<uid>`.
    public let id: String
    /// Unix seconds, the same on every chunk.
    public let created: Int
    /// Starts as given and becomes the `start` event's model.
    public private(set) var model: String
    /// The client asked `stream_options.include_usage`: a usage-only chunk follows the last choice.
    public let includeUsage: Bool

    /// - Parameters:
    ///   - uid: the stream id; the chunk id is `chatcmpl-<uid>`.
    ///   - model: the model named until the `start` event names one.
    ///   - created: fixed for tests; the current time by default.
    public init(uid: String, model: String = "", includeUsage: Bool = false, created: Int? = nil) {
        self.id = "chatcmpl-" + uid
        self.model = model
        self.includeUsage = includeUsage
        self.created = created ?? UnixTime.now()
    }

    /// The SSE bytes for one event: every payload framed as `data: …\n\n`.
    ///
    /// Text and reasoning deltas, nearly every event of a stream, are assembled from a prefix
    /// computed once per stream around the one escaped string, instead of a whole JSON document
    /// per token; the bytes are the same as framing `encode(_:)`'s payloads.
    public mutating func frames(for event: StreamEvent) -> [UInt8] {
        var bytes: [UInt8] = []
        appendFrames(for: event, to: &bytes)
        return bytes
    }

    /// `frames(for:)`, appended to `bytes` (a run of events becomes one buffer).
    public mutating func appendFrames(for event: StreamEvent, to bytes: inout [UInt8]) {
        switch event.kind {
        case .delta(let text):
            if contentPrefix.isEmpty { contentPrefix = framePrefix(field: "content") }
            Self.appendFramed(text, prefix: contentPrefix, to: &bytes)
        case .reasoning(let text):
            if reasoningPrefix.isEmpty { reasoningPrefix = framePrefix(field: "reasoning_content") }
            Self.appendFramed(text, prefix: reasoningPrefix, to: &bytes)
        default:
            for payload in encode(event) { bytes += SSEFrame.data(payload) }
        }
    }

    /// `appendFrames(for:to:)` for a run of events, into a buffer reserved once for the run's
    /// likely size: growing it frame by frame copied it several times per run.
    public mutating func appendFrames(for events: [StreamEvent], to bytes: inout [UInt8]) {
        // Read in place: iterating the array copied (retained, then released) every event twice.
        events.withUnsafeBufferPointer { events in
            var textBytes = 0
            for index in events.indices {
                switch events[index].kind {
                case .delta(let text), .reasoning(let text): textBytes += text.utf8.count
                default: textBytes += 256
                }
            }
            let perFrame = max(contentPrefix.count, reasoningPrefix.count, 160) + Self.deltaSuffix.count
            // An eighth more text for escapes, as JSON text rarely needs more.
            bytes.reserveCapacity(bytes.count + events.count * perFrame + textBytes + textBytes / 8)
            for index in events.indices { appendFrames(for: events[index], to: &bytes) }
        }
    }

    private var contentPrefix: [UInt8] = []
    private var reasoningPrefix: [UInt8] = []
    private static let deltaSuffix = Array(#"},"finish_reason":null}]}"#.utf8) + Array("\n\n".utf8)

    /// Everything of a one-field delta frame before the string's opening quote.
    private func framePrefix(field: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 160 + model.utf8.count)
        writeOpening(to: &writer)
        writer.key(field)
        return Array("data: ".utf8) + writer.bytes
    }

    /// Static, with the prefix passed in: a method of `self` given one of its own properties
    /// `inout` made Swift copy the whole encoder (its strings and buffers retained) every token.
    private static func appendFramed(_ text: String, prefix: [UInt8], to bytes: inout [UInt8]) {
        // Only for a fresh buffer: reserving exact sizes while appending a run would reallocate
        // on every frame instead of growing geometrically.
        if bytes.isEmpty { bytes.reserveCapacity(prefix.count + text.utf8.count + deltaSuffix.count + 8) }
        bytes += prefix
        JSONWriter.appendQuoted(text, to: &bytes)
        bytes += deltaSuffix
    }

    /// The chunk payloads for one event: none, one, or for `done` with usage requested, two.
    public mutating func encode(_ event: StreamEvent) -> [[UInt8]] {
        switch event.kind {
        case .start(_, let model):
            if !model.isEmpty, model != self.model {
                self.model = model
                contentPrefix = []
                reasoningPrefix = []
            }
            return [chunk { writer in
                writer.key("role")
                writer.string("assistant")
                writer.key("content")
                writer.string("")
            }]
        case .delta(let text):
            return [chunk { writer in
                writer.key("content")
                writer.string(text)
            }]
        case .reasoning(let text):
            return [chunk { writer in
                writer.key("reasoning_content")
                writer.string(text)
            }]
        case .toolCall(let call):
            return [chunk { writer in Self.write(call, to: &writer) }]
        case .done(let finishReason, let usage):
            let last = chunk(finishReason: finishReason) { _ in }
            guard includeUsage else { return [last] }
            return [last, usageChunk(usage ?? Usage(promptTokens: 0, completionTokens: 0))]
        case .error(let failure):
            return [OpenAIErrorEncoder.encode(failure)]
        case .cancelled:
            return [
                OpenAIErrorEncoder.encode(
                    message: "The stream was cancelled.", type: "server_error", code: "cancelled")
            ]
        }
    }

    /// The last chunk of a stream with `usage` on it, for transports that carry one message per
    /// event (a response queue) and so have no room for OpenAI's separate usage-only chunk.
    public func finishChunk(finishReason: String, usage: Usage?) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 + model.utf8.count)
        writeOpening(to: &writer)
        writer.endObject()
        writer.key("finish_reason")
        writer.string(finishReason)
        writer.endObject()
        writer.endArray()
        if let usage {
            writer.key("usage")
            usage.write(to: &writer)
        }
        writer.endObject()
        return writer.bytes
    }

    // MARK: - Chunks

    private func chunk(finishReason: String? = nil, delta: (inout JSONWriter) -> Void) -> [UInt8] {
        var writer = JSONWriter(capacity: 160 + model.utf8.count)
        writeOpening(to: &writer)
        delta(&writer)
        writer.endObject()
        writer.key("finish_reason")
        if let finishReason { writer.string(finishReason) } else { writer.null() }
        writer.endObject()
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// OpenAI's final chunk under include_usage: no choices, only usage. Zeros stand in when the
    /// model server reported none, since clients that asked read the field unconditionally.
    private func usageChunk(_ usage: Usage) -> [UInt8] {
        var writer = JSONWriter(capacity: 224)
        writeHeader(to: &writer)
        writer.key("choices")
        writer.beginArray()
        writer.endArray()
        writer.key("usage")
        usage.write(to: &writer)
        writer.endObject()
        return writer.bytes
    }

    /// A chunk up to the inside of its delta: `{"id":…,"choices":[{"index":0,"delta":{`.
    private func writeOpening(to writer: inout JSONWriter) {
        writeHeader(to: &writer)
        writer.key("choices")
        writer.beginArray()
        writer.beginObject()
        writer.key("index")
        writer.int(0)
        writer.key("delta")
        writer.beginObject()
    }

    private func writeHeader(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.string(id)
        writer.key("object")
        writer.string("chat.completion.chunk")
        writer.key("created")
        writer.int(created)
        writer.key("model")
        writer.string(model)
    }

    /// `"tool_calls":[…]` for one piece: `id`, `type` and `name` only on the pieces that carry
    /// them (the first), as OpenAI streams it.
    private static func write(_ call: ToolCallDelta, to writer: inout JSONWriter) {
        writer.key("tool_calls")
        writer.beginArray()
        writer.beginObject()
        writer.key("index")
        writer.int(call.index)
        if let id = call.id {
            writer.key("id")
            writer.string(id)
        }
        if call.id != nil || call.name != nil {
            writer.key("type")
            writer.string("function")
        }
        writer.key("function")
        writer.beginObject()
        if let name = call.name {
            writer.key("name")
            writer.string(name)
        }
        writer.key("arguments")
        writer.string(call.arguments)
        writer.endObject()
        writer.endObject()
        writer.endArray()
    }
}
