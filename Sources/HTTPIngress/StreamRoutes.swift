import BridgeCore
import WebServer

extension HTTPIngress {
    /// `/v1/streams/{uid}` (GET: its events as SSE; DELETE: cancel), `/v1/streams/{uid}/result`
    /// (GET) and `/v1/streams/{uid}/cancel` (POST).
    func streamRoutes(for path: String) -> [String: Action]? {
        let prefix = "/v1/streams/"
        guard path.hasPrefix(prefix) else { return nil }
        let parts = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard let uid = parts.first, !uid.isEmpty else { return nil }
        switch parts.count {
        case 1: return ["GET": streamEvents, "DELETE": cancelStream]
        case 2 where parts[1] == "result": return ["GET": streamResult]
        case 2 where parts[1] == "cancel": return ["POST": cancelStream]
        default: return nil
        }
    }

    /// The stream's events as SSE from the start, or after `?after=N` / `Last-Event-ID: N`: live
    /// while it runs, replayed once it ended (within `pipeline.retention`). With `?epoch=E`, N
    /// counts in run E: when the uid has been answered again since, the reader gets the new run
    /// from its `start` instead of the new run's events past N. A reader may come first: it waits
    /// up to `pipeline.attach_wait` for the stream to start.
    func streamEvents(_ context: RouteContext) {
        guard let uid = validStreamUID(context) else { return }
        let after: Int
        let epoch: String?
        do {
            after = try resumePoint(context.request)
            epoch = try resumeEpoch(context.request)
        } catch {
            context.respond(ErrorResponse.make(error))
            return
        }
        let reader = JournalSSEReader(context: context, keepalive: configuration.sseKeepalive)
        let journal = pipeline.journal
        context.responder.onClientGone { journal.detach(reader, uid: uid) }
        switch journal.attach(reader, uid: uid, after: after, epoch: epoch) {
        case .attached:
            return
        case .alreadyRead:
            // Nothing more will ever come: 204 tells an EventSource to stop reconnecting.
            context.respond(HTTPResponse(status: 204, headers: [("x-stream-id", uid)], body: []))
            return
        case .waiting:
            break
        }
        let wait = configuration.attachWait
        Task {
            if wait > .zero { try? await Task.sleep(for: wait) }
            if journal.stopWaiting(reader, uid: uid) { context.respond(Self.unknownStream(uid)) }
        }
    }

    /// The assembled answer: 200 once the stream ended, 202 with what came so far while it runs.
    func streamResult(_ context: RouteContext) {
        guard let uid = validStreamUID(context) else { return }
        guard let (result, status, epoch) = pipeline.journal.result(of: uid) else {
            context.respond(Self.unknownStream(uid))
            return
        }
        context.respondJSON(
            status: status == .running ? 202 : 200, StreamResultEncoder.encode(result, status: status, epoch: epoch),
            headers: [("x-stream-id", uid)])
    }

    /// Cancels a running stream: it ends with `cancelled` on every sink and the model call is aborted.
    func cancelStream(_ context: RouteContext) {
        guard let uid = validStreamUID(context) else { return }
        let wasRunning = pipeline.cancel(uid: uid)
        guard let (_, status, _) = pipeline.journal.result(of: uid) else {
            context.respond(Self.unknownStream(uid))
            return
        }
        // The stream may have ended on its own a moment before the cancel reached it.
        guard wasRunning, status == .cancelled else {
            context.respond(
                ErrorResponse.make(
                    status: 409, message: "The stream '\(uid)' already ended (\(status.rawValue)).", code: "stream_finished"))
            return
        }
        var writer = JSONWriter(capacity: 96)
        writer.beginObject()
        writer.key("uid")
        writer.string(uid)
        writer.key("status")
        writer.string(status.rawValue)
        writer.endObject()
        context.respondJSON(writer.bytes, headers: [("x-stream-id", uid)])
    }

    private func validStreamUID(_ context: RouteContext) -> String? {
        guard let uid = context.request.streamPathUID, StreamID.isValid(uid) else {
            context.respond(
                ErrorResponse.make(
                    status: 404, message: "No stream at \(context.request.path): a uid is 1-\(StreamID.maximumLength) characters of [A-Za-z0-9_.:-].",
                    code: "stream_not_found"))
            return nil
        }
        return uid
    }

    static func unknownStream(_ uid: String) -> HTTPResponse {
        ErrorResponse.make(
            status: 404, message: "No stream '\(uid)': not running, and not finished within pipeline.retention.",
            code: "stream_not_found")
    }

    /// `?epoch=`: the run a resume point counts in; absent or empty, the current run's.
    private func resumeEpoch(_ request: HTTPRequest) throws(RequestError) -> String? {
        guard let epoch = request.queryItem("epoch"), !epoch.isEmpty else { return nil }
        guard StreamID.isValid(epoch) else {
            throw RequestError(
                .invalid, "'epoch' must be a run's epoch as its start event gave it (1-\(StreamID.maximumLength) characters of [A-Za-z0-9_.:-]).",
                param: "epoch", code: "invalid_value")
        }
        return epoch
    }

    /// `Last-Event-ID: N`, else `?after=N`, else 0 (from the start). The header wins: an
    /// EventSource opened with `?after=` reconnects to the same URL with the header saying how far
    /// it really got.
    private func resumePoint(_ request: HTTPRequest) throws(RequestError) -> Int {
        if let last = request.header("last-event-id") {
            let trimmed = last.trimmingHeaderWhitespace()
            guard let value = Int(trimmed), value >= 0 else {
                throw RequestError(
                    .invalid, "Last-Event-ID must be a seq this endpoint sent (a whole number), not '\(last)'.",
                    param: "Last-Event-ID", code: "invalid_value")
            }
            return value
        }
        if let after = request.queryItem("after") {
            guard let value = Int(after), value >= 0 else {
                throw RequestError(.invalid, "'after' must be a seq (a whole number, 0 or more), not '\(after)'.", param: "after", code: "invalid_value")
            }
            return value
        }
        return 0
    }
}
