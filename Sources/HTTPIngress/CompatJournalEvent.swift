import BridgeCore

/// Turns an event the journal kept back into a `StreamEvent`, for readers that write another
/// format than the event schema (the compatibility endpoints).
///
/// The journal keeps each event only as its wire JSON (`RecordedEvent.json`), encoded once for
/// every reader; these readers are few and short-lived, so parsing that JSON again costs less than
/// keeping a second copy of every event of every stream.
enum CompatJournalEvent {
    /// Nil for JSON that is not an event of the schema (never written by the journal).
    static func decode(_ recorded: RecordedEvent, uid: String) -> StreamEvent? {
        guard let value = try? JSONParser.parse(recorded.json), let kind = kind(of: value, type: recorded.type) else {
            return nil
        }
        return StreamEvent(uid: uid, seq: recorded.seq, kind: kind)
    }

    private static func kind(of event: JSONValue, type: String) -> StreamEvent.Kind? {
        switch type {
        case "start":
            return .start(epoch: event["epoch"]?.stringValue ?? "", model: event["model"]?.stringValue ?? "")
        case "delta":
            return event["text"]?.stringValue.map { .delta(text: $0) }
        case "reasoning":
            return event["reasoning"]?.stringValue.map { .reasoning(text: $0) }
        case "tool_call":
            guard let call = event["tool_call"], let index = call["index"]?.intValue else { return nil }
            return .toolCall(
                ToolCallDelta(
                    index: index, id: call["id"]?.stringValue, name: call["name"]?.stringValue,
                    arguments: call["arguments"]?.stringValue ?? ""))
        case "done":
            return .done(finishReason: event["finish_reason"]?.stringValue ?? "stop", usage: event["usage"].flatMap(usage))
        case "error":
            let error = event["error"]
            return .error(
                StreamFailure(
                    code: StreamFailure.Code(rawValue: error?["code"]?.stringValue ?? StreamFailure.Code.internalError.rawValue),
                    message: error?["message"]?.stringValue ?? "The stream failed.",
                    upstreamStatus: error?["upstream_status"]?.intValue))
        case "cancelled":
            return .cancelled
        default:
            return nil
        }
    }

    private static func usage(_ value: JSONValue) -> Usage? {
        guard let object = value.objectValue, let prompt = object["prompt_tokens"]?.intValue,
            let completion = object["completion_tokens"]?.intValue
        else { return nil }
        let counted: Set<String> = ["prompt_tokens", "completion_tokens", "total_tokens"]
        let details = JSONObject(object.entries.filter { !counted.contains($0.key) })
        return Usage(promptTokens: prompt, completionTokens: completion, totalTokens: object["total_tokens"]?.intValue, details: details)
    }
}
