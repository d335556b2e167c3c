import BridgeCore
import WebServer

extension HTTPIngress {
    /// Starts the stream of a compatibility endpoint whose caller reads the answer in its own
    /// response: the caller's sink first, then `sinks.default` (so browsers on the stream's
    /// channel see it too). The caller leaving cancels it, as the projects' own generators
    /// stopped when their client went away; other readers then see the stream end `cancelled`.
    func startCompatStream(
        _ chat: ChatRequest, uid: String, callerSink: any EventSink, head: HTTPResponseHead, heartbeat: StreamHeartbeat?,
        context: RouteContext
    ) {
        let run: StreamRun
        do {
            run = try pipeline.start(chat, sinks: [callerSink] + sinks.sinks(sinks.defaults, for: uid, model: pipeline.model(for: chat)))
        } catch {
            context.respond(ErrorResponse.make(error))
            return
        }
        // Events already produced wait in the exchange until this head is out.
        context.startStream(head, heartbeat: heartbeat)
        context.responder.onClientGone { run.cancel() }
    }

    /// `server.api_keys` guards the compatibility routes that use the model or read a stream as it
    /// guards `/v1/*`; without keys configured (the default) they are open, as the projects' were.
    /// Answers 401 and returns false when the key is missing or wrong.
    func compatAuthorized(_ context: RouteContext) -> Bool {
        if isAuthorized(context.request) { return true }
        context.respond(
            ErrorResponse.make(
                status: 401, message: "Missing or invalid API key: send 'Authorization: Bearer <key>'.", code: "invalid_api_key",
                headers: [("www-authenticate", "Bearer")]))
        return false
    }
}
