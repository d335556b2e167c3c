/// One event of a stream, the same on every sink (ARCHITECTURE.md, "The stream event").
public struct StreamEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case start(epoch: String, model: String)
        case delta(text: String)
        case reasoning(text: String)
        case toolCall(ToolCallDelta)
        case done(finishReason: String, usage: Usage?)
        case error(StreamFailure)
        case cancelled
    }

    public let uid: String
    public let seq: Int
    public let kind: Kind

    public init(uid: String, seq: Int, kind: Kind) {
        self.uid = uid
        self.seq = seq
        self.kind = kind
    }

    /// What `write` produces for a text or reasoning delta, assembled in one allocation: these
    /// are nearly every event of a stream.
    private static func textEventJSON(uid: String, seq: Int, type: StaticString, field: StaticString, text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + uid.utf8.count + text.utf8.count + text.utf8.count / 8)
        bytes.append(contentsOf: #"{"uid":"#.utf8)
        JSONWriter.appendQuoted(uid, to: &bytes)
        bytes.append(contentsOf: #","seq":"#.utf8)
        bytes.append(contentsOf: String(seq).utf8)
        bytes.append(contentsOf: #","type":""#.utf8)
        bytes.append(contentsOf: UnsafeBufferPointer(start: type.utf8Start, count: type.utf8CodeUnitCount))
        bytes.append(contentsOf: #"",""#.utf8)
        bytes.append(contentsOf: UnsafeBufferPointer(start: field.utf8Start, count: field.utf8CodeUnitCount))
        bytes.append(contentsOf: #"":"#.utf8)
        JSONWriter.appendQuoted(text, to: &bytes)
        bytes.append(contentsOf: #","done":false}"#.utf8)
        return bytes
    }

    /// The `type` field of the wire schema.
    public var type: String { Self.typeName(of: kind) }

    private static func typeName(of kind: Kind) -> String {
        switch kind {
        case .start: return "start"
        case .delta: return "delta"
        case .reasoning: return "reasoning"
        case .toolCall: return "tool_call"
        case .done: return "done"
        case .error: return "error"
        case .cancelled: return "cancelled"
        }
    }

    public var isTerminal: Bool {
        switch kind {
        case .done, .error, .cancelled: return true
        default: return false
        }
    }

    /// The event in the wire schema, one JSON object on one line.
    ///
    /// Made when asked, not kept: the OpenAI-format SSE answer and the journal never need it, and
    /// making it for every token took 7% of the bridge's CPU at 100 streams. Each sink that sends
    /// it asks once per event (a channel's subscribers share its publication's bytes).
    public func jsonBytes() -> [UInt8] {
        switch kind {
        case .delta(let text):
            return Self.textEventJSON(uid: uid, seq: seq, type: "delta", field: "text", text: text)
        case .reasoning(let text):
            return Self.textEventJSON(uid: uid, seq: seq, type: "reasoning", field: "reasoning", text: text)
        default:
            var writer = JSONWriter(capacity: 128 + uid.utf8.count)
            Self.write(uid: uid, seq: seq, kind: kind, to: &writer)
            return writer.bytes
        }
    }

    static func write(uid: String, seq: Int, kind: Kind, to writer: inout JSONWriter) {
        let isTerminal: Bool
        switch kind {
        case .done, .error, .cancelled: isTerminal = true
        default: isTerminal = false
        }
        let type = StreamEvent.typeName(of: kind)
        writer.beginObject()
        writer.key("uid")
        writer.string(uid)
        writer.key("seq")
        writer.int(seq)
        writer.key("type")
        writer.string(type)
        switch kind {
        case .start(let epoch, let model):
            writer.key("epoch")
            writer.string(epoch)
            writer.key("model")
            writer.string(model)
        case .delta(let text):
            writer.key("text")
            writer.string(text)
        case .reasoning(let text):
            writer.key("reasoning")
            writer.string(text)
        case .toolCall(let call):
            writer.key("tool_call")
            call.write(to: &writer)
        case .done(let finishReason, let usage):
            writer.key("finish_reason")
            writer.string(finishReason)
            if let usage {
                writer.key("usage")
                usage.write(to: &writer)
            }
        case .error(let failure):
            writer.key("error")
            failure.write(to: &writer)
        case .cancelled:
            break
        }
        writer.key("done")
        writer.bool(isTerminal)
        writer.endObject()
    }
}

extension StreamEvent {
    /// Text deltas `from...to` merged into one event (a slow reader's catch-up): the schema of a
    /// delta, its `seq` the last one it covers, plus `seq_from` and `seq_to`.
    public static func mergedDeltaJSON(uid: String, from: Int, to: Int, text: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 96 + uid.utf8.count + text.utf8.count)
        writer.beginObject()
        writer.key("uid")
        writer.string(uid)
        writer.key("seq")
        writer.int(to)
        writer.key("seq_from")
        writer.int(from)
        writer.key("seq_to")
        writer.int(to)
        writer.key("type")
        writer.string("delta")
        writer.key("text")
        writer.string(text)
        writer.key("done")
        writer.bool(false)
        writer.endObject()
        return writer.bytes
    }
}

/// A piece of a tool call as the model streams it: the first piece carries `id` and `name`,
/// later pieces append to `arguments`.
public struct ToolCallDelta: Sendable, Equatable {
    public var index: Int
    public var id: String?
    public var name: String?
    public var arguments: String

    public init(index: Int, id: String? = nil, name: String? = nil, arguments: String = "") {
        self.index = index
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("index")
        writer.int(index)
        if let id {
            writer.key("id")
            writer.string(id)
        }
        if let name {
            writer.key("name")
            writer.string(name)
        }
        writer.key("arguments")
        writer.string(arguments)
        writer.endObject()
    }
}

/// Token accounting as the model server reports it.
public struct Usage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    /// Provider-specific detail objects (`completion_tokens_details`...), passed through as they came.
    public var details: JSONObject

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil, details: JSONObject = JSONObject()) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens ?? promptTokens + completionTokens
        self.details = details
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("prompt_tokens")
        writer.int(promptTokens)
        writer.key("completion_tokens")
        writer.int(completionTokens)
        writer.key("total_tokens")
        writer.int(totalTokens)
        for (name, value) in details {
            writer.key(name)
            writer.value(value)
        }
        writer.endObject()
    }
}
