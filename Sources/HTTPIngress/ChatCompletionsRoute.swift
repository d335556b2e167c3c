import BridgeCore
import WebServer

extension HTTPIngress {
    /// `POST /v1/chat/completions`: OpenAI-compatible, streaming (SSE) or not, or asynchronous
    /// (202 at once; the answer goes to the stream's sinks and `GET /v1/streams/{uid}`).
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
        let sinkNames: [String]
        do {
            chat = try ChatRequest.parse(bytes: request.body)
            sinkNames = try sinks.resolve(chat.sinks)
        } catch {
            context.respond(ErrorResponse.make(error))
            return
        }
        let uid = chat.uid ?? StreamID.generate()
        chat.uid = uid
        let isAsync = chat.isAsync || request.prefersAsync
        var streamSinks = sinks.sinks(sinkNames, for: uid, model: pipeline.model(for: chat))
        if !isAsync {
            let callerSink: any EventSink =
                chat.stream
                ? SSEChatSink(
                    responder: context.responder, uid: uid, model: pipeline.model(for: chat), includeUsage: chat.includeUsage)
                : CompletionSink(context: context, uid: uid)
            streamSinks.insert(callerSink, at: 0)
        }
        let run: StreamRun
        do {
            run = try pipeline.start(chat, sinks: streamSinks)
        } catch {
            context.respond(ErrorResponse.make(error))
            return
        }
        if isAsync {
            var headers: [(name: String, value: String)] = [("x-stream-id", uid), ("location", "/v1/streams/\(uid)")]
            // RFC 7240: say the preference was honoured (the body field needs no such answer).
            if request.prefersAsync { headers.append(("preference-applied", "respond-async")) }
            context.respondJSON(
                status: 202, AsyncSubmission(uid: uid, channel: sinkNames.contains("websocket") ? configuration.channelPrefix + uid : nil).json,
                headers: headers)
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
        // A caller that named other sinks wants the answer there even if it leaves; a plain one
        // leaving means nobody will read it.
        let policy = chat.onDisconnect ?? (chat.sinks == nil ? .cancel : .continue)
        if policy == .cancel { context.responder.onClientGone { run.cancel() } }
    }
}

extension HTTPRequest {
    /// `Prefer: respond-async` (RFC 7240), among other preferences.
    var prefersAsync: Bool {
        guard let prefer = header("prefer") else { return false }
        return prefer.split(separator: ",").contains { $0.split(separator: ";").first.map { String($0).trimmingHeaderWhitespace().lowercased() } == "respond-async" }
    }
}

/// The 202 answer of an asynchronous submit: where to read the answer.
struct AsyncSubmission {
    let uid: String
    /// The stream's channel on the embedded channel server, when that is one of its sinks.
    let channel: String?

    var json: [UInt8] {
        var writer = JSONWriter(capacity: 160)
        writer.beginObject()
        writer.key("uid")
        writer.string(uid)
        writer.key("channel")
        if let channel { writer.string(channel) } else { writer.null() }
        writer.key("stream_url")
        writer.string("/v1/streams/\(uid)")
        writer.key("result_url")
        writer.string("/v1/streams/\(uid)/result")
        writer.key("status")
        writer.string("accepted")
        writer.endObject()
        return writer.bytes
    }
}
