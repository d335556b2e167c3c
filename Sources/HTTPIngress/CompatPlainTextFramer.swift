import BridgeCore

/// The FastAPI + RabbitMQ POC's `POST /chat` body: the answer's text as it comes, `text/plain`,
/// and on failure `[ERROR: <message>]` at the end, as the POC wrote its exception into the body.
struct CompatPlainTextFramer: CompatEventFramer {
    mutating func frames(for event: StreamEvent) -> [UInt8] {
        switch event.kind {
        case .delta(let text):
            return Array(text.utf8)
        case .error(let failure):
            return Array("[ERROR: \(failure.message)]".utf8)
        case .start, .reasoning, .toolCall, .done, .cancelled:
            return []
        }
    }
}
