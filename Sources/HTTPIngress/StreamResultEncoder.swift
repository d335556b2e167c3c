import BridgeCore
import OpenAIWire

/// `GET /v1/streams/{uid}/result`: a stream's answer as one JSON object, in the words of the
/// event schema (`text`, `reasoning`, `finish_reason`, `usage`) plus tool calls as OpenAI shapes them.
enum StreamResultEncoder {
    static func encode(_ result: StreamResult, status: StreamJournal.Status, epoch: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 + result.text.utf8.count + result.reasoning.utf8.count)
        writer.beginObject()
        writer.key("uid")
        writer.string(result.uid)
        writer.key("epoch")
        writer.string(epoch)
        writer.key("status")
        writer.string(status.rawValue)
        writer.key("model")
        writer.string(result.model)
        writer.key("text")
        writer.string(result.text)
        writer.key("reasoning")
        writer.string(result.reasoning)
        writer.key("tool_calls")
        ChatCompletionEncoder.writeToolCalls(result, withIndex: true, to: &writer)
        writer.key("finish_reason")
        if let reason = result.finishReason { writer.string(reason) } else { writer.null() }
        writer.key("usage")
        if let usage = result.usage { usage.write(to: &writer) } else { writer.null() }
        writer.key("error")
        if let failure = result.failure {
            failure.write(to: &writer)
        } else {
            writer.null()
        }
        writer.endObject()
        return writer.bytes
    }
}
