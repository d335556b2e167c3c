import BridgeCore
import WebServer

extension HTTPIngress {
    /// `POST /v1/chat/completions`: OpenAI-compatible, streaming (SSE) or not.
    func chatCompletions(_ context: RouteContext) {
        let request = context.request
        if let type = request.mediaType, type != "application/json" {
            context.respond(
                ErrorResponse.make(
                    status: 415, message: "Content-Type must be application/json, not \(type).",
                    code: "unsupported_media_type"))
            return
        }
        var chat: ChatRequest
        do {
            chat = try ChatRequest.parse(bytes: request.body)
        } catch {
            context.respond(ErrorResponse.make(error))
            return
        }
        let uid = chat.uid ?? StreamID.generate()
        chat.uid = uid
        let sink: any EventSink =
            chat.stream
            ? SSEChatSink(
                responder: context.responder, uid: uid, model: pipeline.model(for: chat), includeUsage: chat.includeUsage)
            : CompletionSink(context: context, uid: uid)
        let run: StreamRun
        do {
            run = try pipeline.start(chat, sinks: [sink] + defaultSinks.sinks(for: uid))
        } catch {
            context.respond(ErrorResponse.make(error))
            return
        }
        if chat.stream {
            // Events already produced wait in the exchange until this head is out.
            context.startStream(
                HTTPResponseHead(
                    status: 200, contentType: "text/event-stream; charset=utf-8",
                    headers: [("x-stream-id", uid), ("cache-control", "no-cache"), ("x-accel-buffering", "no")]),
                heartbeat: StreamHeartbeat(interval: configuration.sseKeepalive, bytes: Array(": keep-alive\n\n".utf8)))
        }
        context.responder.onClientGone { run.cancel() }
    }
}
