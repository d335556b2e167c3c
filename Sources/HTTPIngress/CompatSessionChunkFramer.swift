import BridgeCore

/// The FastAPI + RabbitMQ POC's `GET /stream/{session_id}` answer
/// (djdevpro/llm_fastapi_celery_mq_redis, `main.py`): `data: {"chunk": "<text>"}` per text delta,
/// then `data: {"type": "done"}`. A failure comes as one more chunk `[ERROR: <message>]` before
/// the done, as its RabbitMQ consumer turned an `error` message into that chunk.
///
/// The spacing is Python's `json.dumps` (`{"chunk": "…"}`), so a client comparing text sees
/// what the POC sent.
struct CompatSessionChunkFramer: CompatEventFramer {
    private static let chunkPrefix = Array(#"data: {"chunk": "#.utf8)
    private static let chunkSuffix = Array("}\n\n".utf8)
    static let doneFrame = Array(#"data: {"type": "done"}"#.utf8) + Array("\n\n".utf8)

    mutating func frames(for event: StreamEvent) -> [UInt8] {
        switch event.kind {
        case .delta(let text):
            return text.isEmpty ? [] : Self.chunk(text)
        case .error(let failure):
            return Self.chunk("[ERROR: \(failure.message)]") + Self.doneFrame
        case .done, .cancelled:
            return Self.doneFrame
        case .start, .reasoning, .toolCall:
            return []
        }
    }

    private static func chunk(_ text: String) -> [UInt8] {
        var bytes = chunkPrefix
        bytes.reserveCapacity(chunkPrefix.count + text.utf8.count + 8)
        JSONWriter.appendQuoted(text, to: &bytes)
        bytes += chunkSuffix
        return bytes
    }
}
