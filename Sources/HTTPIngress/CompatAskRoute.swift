import BridgeCore
import WebServer

extension HTTPIngress {
    /// `POST /ask {query, uuid?}` (the FastAPI SSE demo, Uemerson/fastapi-sse-llm, `src/main.py`):
    /// the answer as SSE in the response, `data: <token>` per token, then `event: done` (or
    /// `timeout`, `error`, `cancelled`). The demo ignored the `uuid` its README sends and made its
    /// own; here it is the stream's uid (a new UUIDv4 when absent), in `X-Stream-Id`, so the
    /// stream's channel and `/v1/streams/{uid}` carry the same answer.
    func compatAsk(_ context: RouteContext) {
        guard compatAuthorized(context) else { return }
        let chat: ChatRequest
        let uid: String
        do throws(RequestError) {
            let body = try CompatRequestBody(bytes: context.request.body)
            let query = try body.requiredString("query")
            // The demo's worker refused an empty prompt with `event: error`; say so up front.
            guard !query.isEmpty else {
                throw RequestError(.invalid, "'query' must not be empty.", param: "query", code: "invalid_value")
            }
            uid = try body.streamID("uuid") ?? StreamID.generate()
            chat = try ChatRequest.compat(prompt: query, uid: uid, model: nil)
        } catch {
            context.respond(ErrorResponse.make(error))
            return
        }
        startCompatStream(
            chat, uid: uid, callerSink: CompatCallerSink(responder: context.responder, framer: CompatAskFramer()),
            head: Self.compatEventStreamHead(extraHeaders: [("x-stream-id", uid)]), heartbeat: compatKeepalive, context: context)
    }
}
