import BridgeCore
import OpenAIWire

/// The FastAPI SSE demo's `POST /ask` answer (Uemerson/fastapi-sse-llm, `src/main.py`): each
/// token as `data: <text>\n\n`, then one data-less event naming how it ended: `event: done`,
/// `event: timeout`, `event: error` or `event: cancelled`. Its page reads those lines itself, so
/// the end events carry no data (a `data:` line would be shown as a token).
struct CompatAskFramer: CompatEventFramer {
    mutating func frames(for event: StreamEvent) -> [UInt8] {
        switch event.kind {
        case .delta(let text):
            // `message` splits a token holding line breaks into several `data:` lines, which an
            // SSE parser joins back with "\n"; a raw break would end the event early.
            return text.isEmpty ? [] : SSEFrame.message(data: text)
        case .done:
            return Self.end("done")
        case .error(let failure):
            let timedOut = failure.code == .upstreamTimeout || failure.code == .deadlineExceeded
            return Self.end(timedOut ? "timeout" : "error")
        case .cancelled:
            return Self.end("cancelled")
        case .start, .reasoning, .toolCall:
            return []
        }
    }

    private static func end(_ name: String) -> [UInt8] {
        Array("event: \(name)\n\n".utf8)
    }
}
