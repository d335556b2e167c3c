import BridgeCore
import WebServer

/// The FastAPI + RabbitMQ streaming POC (djdevpro/llm_fastapi_celery_mq_redis, `main.py` and
/// `services/rabbit_consumer.py`): `POST /chat` streams the answer as text and names its session in
/// `X-Session-ID`; `GET /stream/{session_id}` is the same answer as SSE for another reader (its page
/// opens it right after the POST); `GET /test` checks the model server.
extension HTTPIngress {
    /// `/stream/{session_id}`: one path segment after the prefix.
    func compatSessionStreamRoutes(for path: String) -> [String: Action]? {
        guard let id = Self.sessionID(inPath: path), !id.isEmpty, !id.contains("/") else { return nil }
        return ["GET": compatSessionStream]
    }

    /// `POST /chat {message, session_id?, model?}`: the answer's text as `text/plain`, streamed;
    /// the session id (a new UUIDv4 when absent) is the stream's uid, in `X-Session-ID`.
    func compatChat(_ context: RouteContext) {
        guard compatAuthorized(context) else { return }
        let chat: ChatRequest
        let uid: String
        do {
            let body = try CompatRequestBody(bytes: context.request.body)
            let message = try body.requiredString("message")
            uid = try body.streamID("session_id") ?? StreamID.generate()
            chat = try ChatRequest.compat(prompt: message, uid: uid, model: body.string("model"))
        } catch {
            context.respond(ErrorResponse.make(error))
            return
        }
        let head = HTTPResponseHead(
            status: 200, contentType: "text/plain; charset=utf-8",
            headers: [("x-session-id", uid), ("x-stream-id", uid), ("cache-control", "no-cache"), ("x-accel-buffering", "no")])
        // No heartbeat: any byte written into a text/plain body would become part of the answer.
        startCompatStream(
            chat, uid: uid, callerSink: CompatCallerSink(responder: context.responder, framer: CompatPlainTextFramer()), head: head,
            heartbeat: nil, context: context)
    }

    /// `GET /stream/{session_id}`: the session's answer from its start as `data: {"chunk": …}`
    /// events, then `data: {"type": "done"}`.
    func compatSessionStream(_ context: RouteContext) {
        guard compatAuthorized(context) else { return }
        guard let uid = Self.sessionID(inPath: context.request.path), StreamID.isValid(uid) else {
            context.respond(
                ErrorResponse.make(
                    status: 404, message: "No session at \(context.request.path): a session id is 1-\(StreamID.maximumLength) characters of [A-Za-z0-9_.:-].",
                    code: "stream_not_found"))
            return
        }
        let head = Self.compatEventStreamHead(extraHeaders: [("x-session-id", uid)])
        let reader = CompatJournalReader(
            context: context, uid: uid, head: head, heartbeat: compatKeepalive, framer: CompatSessionChunkFramer())
        attachCompatReader(reader, uid: uid, context: context)
    }

    /// `GET /test`: whether the model server answers, as the POC's text: `OK: …` or `ERROR: …`,
    /// status 200 either way as the POC answered. Uses the check `/health` makes (cached 2 s), not
    /// a completion, so polling it costs the model server nothing.
    func compatModelTest(_ context: RouteContext) {
        let health = self.health
        let model = pipeline.configuration.defaultModel
        Task {
            let report = await health.report()
            let milliseconds = Double(report.latency.components.seconds) * 1000 + Double(report.latency.components.attoseconds) / 1e15
            let text =
                if let problem = report.problem {
                    "ERROR: \(problem)"
                } else {
                    "OK: the model server answers (model \(model), checked in \((milliseconds * 10).rounded() / 10) ms)"
                }
            context.respond(HTTPResponse(status: 200, text: text))
        }
    }

    private static func sessionID(inPath path: String) -> String? {
        let prefix = "/stream/"
        guard path.hasPrefix(prefix) else { return nil }
        return String(path.dropFirst(prefix.count))
    }
}
