import BridgeCore
import WebServer

extension HTTPIngress {
    /// `GET /v1/chat/response?uid=<uid>` (digitalis-io/chatgpt-queue's REST API before it streamed
    /// on the submit itself, `restapi.go`): the answer of the stream `uid` as OpenAI chunks over
    /// SSE ending with `data: [DONE]`, from its start: live while it runs, replayed after it ended
    /// (within `pipeline.retention`), waited for up to `pipeline.attach_wait` when it has not
    /// started. The stream comes from `POST /v1/chat/completions` (its `uid`), the queue, or any
    /// other ingress.
    func compatChatResponse(_ context: RouteContext) {
        guard let uid = context.request.queryItem("uid"), !uid.isEmpty else {
            context.respond(
                ErrorResponse.make(status: 400, message: "Missing uid query parameter: /v1/chat/response?uid=<uid>.", param: "uid", code: "missing_field"))
            return
        }
        guard StreamID.isValid(uid) else {
            context.respond(
                ErrorResponse.make(
                    status: 400, message: "'uid' must be 1-\(StreamID.maximumLength) characters of [A-Za-z0-9_.:-].", param: "uid",
                    code: "invalid_value"))
            return
        }
        let reader = CompatJournalReader(
            context: context, uid: uid, head: Self.compatEventStreamHead(), heartbeat: compatKeepalive,
            framer: CompatChunkFramer(uid: uid))
        attachCompatReader(reader, uid: uid, context: context)
    }
}
