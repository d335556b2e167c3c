import BridgeCore
import Synchronization
import WebServer

/// How a compatibility endpoint writes a stream: the wire format of the project it stands in for
/// (chatgpt-queue's OpenAI chunks, the FastAPI POC's `{"chunk": …}`, the SSE demo's raw tokens).
///
/// One framer per response; it may keep state across events (the chunk encoder's model and id).
protocol CompatEventFramer: Sendable {
    /// The bytes for one event, empty when the format has no place for it (a `start`, a reasoning
    /// delta in plain text). The terminal event's bytes are the last of the response.
    mutating func frames(for event: StreamEvent) -> [UInt8]
}

/// The caller's own answer on a compatibility endpoint that starts a stream (`POST /chat`,
/// `POST /ask`): each event framed as that project did, the response ended by the terminal event.
final class CompatCallerSink<Framer: CompatEventFramer>: EventSink {
    let name = "http-compat"
    private let responder: HTTPResponder
    private let framer: Mutex<Framer>

    init(responder: HTTPResponder, framer: Framer) {
        self.responder = responder
        self.framer = Mutex(framer)
    }

    func deliver(_ event: StreamEvent) {
        let bytes = framer.withLock { $0.frames(for: event) }
        if event.isTerminal {
            responder.finish(bytes)
        } else if !bytes.isEmpty {
            responder.write(bytes)
        }
    }
}
