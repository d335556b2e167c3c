import BridgeCore

/// The whole answer as one OpenAI `chat.completion`, for an HTTP caller that asked for
/// `stream: false`.
public enum ChatCompletionEncoder {
    /// Encodes a finished stream. The caller answers a failed or cancelled stream with an error
    /// body instead; if given one anyway, this encodes what arrived before it.
    ///
    /// `content` is null when the answer is only tool calls, as OpenAI sends it; usage is zeros when
    /// the model server reported none, since clients read it unconditionally.
    public static func encode(_ result: StreamResult, created: Int? = nil) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 + result.text.utf8.count + result.reasoning.utf8.count)
        writer.beginObject()
        writer.key("id")
        writer.string("chatcmpl-" + result.uid)
        writer.key("object")
        writer.string("chat.completion")
        writer.key("created")
        writer.int(created ?? UnixTime.now())
        writer.key("model")
        writer.string(result.model)
        writer.key("choices")
        writer.beginArray()
        writer.beginObject()
        writer.key("index")
        writer.int(0)
        writer.key("message")
        writeMessage(result, to: &writer)
        writer.key("finish_reason")
        writer.string(result.finishReason ?? (result.toolCalls.isEmpty ? "stop" : "tool_calls"))
        writer.endObject()
        writer.endArray()
        writer.key("usage")
        (result.usage ?? Usage(promptTokens: 0, completionTokens: 0)).write(to: &writer)
        writer.endObject()
        return writer.bytes
    }

    private static func writeMessage(_ result: StreamResult, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("role")
        writer.string("assistant")
        writer.key("content")
        if result.text.isEmpty && !result.toolCalls.isEmpty { writer.null() } else { writer.string(result.text) }
        if !result.reasoning.isEmpty {
            writer.key("reasoning_content")
            writer.string(result.reasoning)
        }
        if !result.toolCalls.isEmpty {
            writer.key("tool_calls")
            writeToolCalls(result, to: &writer)
        }
        writer.endObject()
    }

    /// The assembled tool calls as OpenAI's message carries them, in index order.
    public static func writeToolCalls(_ result: StreamResult, withIndex: Bool = false, to writer: inout JSONWriter) {
        writer.beginArray()
        for call in result.toolCalls.sorted(by: { $0.index < $1.index }) {
            writer.beginObject()
            if withIndex {
                writer.key("index")
                writer.int(call.index)
            }
            writer.key("id")
            // A client must echo the id in its tool message; invent one if the model gave none.
            writer.string(call.id ?? "call_\(result.uid)_\(call.index)")
            writer.key("type")
            writer.string("function")
            writer.key("function")
            writer.beginObject()
            writer.key("name")
            writer.string(call.name ?? "")
            writer.key("arguments")
            writer.string(call.arguments)
            writer.endObject()
            writer.endObject()
        }
        writer.endArray()
    }
}
