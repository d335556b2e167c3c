import BridgeCore
import OpenAIWire
import Synchronization
import WebServer

/// Streams a run to the HTTP caller who asked for it, as OpenAI chunks over SSE.
final class SSEChatSink: EventSink {
    let name = "http-sse"
    private let responder: HTTPResponder
    private let encoder: Mutex<ChatChunkEncoder>

    init(responder: HTTPResponder, uid: String, model: String, includeUsage: Bool) {
        self.responder = responder
        encoder = Mutex(ChatChunkEncoder(uid: uid, model: model, includeUsage: includeUsage))
    }

    func deliver(_ event: StreamEvent) {
        deliver(contentsOf: [event])
    }

    /// One write to the server thread for the lot.
    func deliver(contentsOf events: [StreamEvent]) {
        var bytes: [UInt8] = []
        encoder.withLock { $0.appendFrames(for: events, to: &bytes) }
        if events.contains(where: \.isTerminal) {
            bytes += SSEFrame.done
            responder.finish(bytes)
        } else if !bytes.isEmpty {
            responder.write(bytes)
        }
    }
}

/// Collects a run into one `chat.completion` for a caller that did not ask to stream.
final class CompletionSink: EventSink {
    let name = "http-completion"
    private let context: RouteContext
    private let result: Mutex<StreamResult>

    init(context: RouteContext, uid: String) {
        self.context = context
        result = Mutex(StreamResult(uid: uid))
    }

    func deliver(_ event: StreamEvent) {
        let finished = result.withLock { result -> StreamResult? in
            result.apply(event)
            return event.isTerminal ? result : nil
        }
        guard let finished else { return }
        let headers = [(name: "x-stream-id", value: finished.uid)]
        if let failure = finished.failure {
            var response = ErrorResponse.make(failure)
            response.head.headers += headers
            context.respond(response)
        } else if finished.cancelled {
            context.respond(
                ErrorResponse.make(status: 499, message: "The stream was cancelled.", type: "cancelled", code: "cancelled", headers: headers))
        } else {
            context.respondJSON(ChatCompletionEncoder.encode(finished), headers: headers)
        }
    }
}
