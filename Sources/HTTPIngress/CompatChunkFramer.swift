import BridgeCore
import OpenAIWire

/// chatgpt-queue's `GET /v1/chat/response?uid=` answer: OpenAI `chat.completion.chunk`s as SSE
/// (`data: {…}\n\n`), ending with `data: [DONE]` as `POST /v1/chat/completions` does.
struct CompatChunkFramer: CompatEventFramer {
    private var encoder: ChatChunkEncoder

    /// The model is named by the stream's `start` event.
    init(uid: String) {
        encoder = ChatChunkEncoder(uid: uid)
    }

    mutating func frames(for event: StreamEvent) -> [UInt8] {
        let bytes = encoder.frames(for: event)
        return event.isTerminal ? bytes + SSEFrame.done : bytes
    }
}
