import BridgeCore
import Synchronization
import WebServer

/// One response of a compatibility endpoint that reads a stream from the journal
/// (`GET /v1/chat/response`, `GET /stream/{session_id}`): the stream from its start, framed as
/// the project it stands in for, live while it runs, replayed after it ended.
///
/// Like `JournalSSEReader`, the head goes out only once the stream exists, so a stream that never
/// comes can still be answered 404.
final class CompatJournalReader<Framer: CompatEventFramer>: StreamJournalReader {
    private struct State {
        var framer: Framer
        var started = false
    }

    private let context: RouteContext
    private let uid: String
    private let head: HTTPResponseHead
    private let heartbeat: StreamHeartbeat?
    private let state: Mutex<State>

    /// - Parameter head: the response head; `x-stream-id` and `x-stream-epoch` are added to it.
    init(context: RouteContext, uid: String, head: HTTPResponseHead, heartbeat: StreamHeartbeat?, framer: Framer) {
        self.context = context
        self.uid = uid
        self.head = head
        self.heartbeat = heartbeat
        state = Mutex(State(framer: framer))
    }

    func journalDidAttach(epoch: String) {
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        var head = head
        head.headers += [("x-stream-id", uid), ("x-stream-epoch", epoch)]
        context.startStream(head, heartbeat: heartbeat)
    }

    func journal(didRecord event: RecordedEvent) {
        let bytes = state.withLock { $0.framer.frames(for: event.event) }
        if !bytes.isEmpty { context.responder.write(bytes) }
    }

    /// One write for the lot: each write is a post to the server thread.
    func journal(didReplay events: [RecordedEvent]) {
        let bytes = state.withLock { state in
            var bytes: [UInt8] = []
            for event in events { bytes += state.framer.frames(for: event.event) }
            return bytes
        }
        if !bytes.isEmpty { context.responder.write(bytes) }
    }

    func journalDidFinish() {
        context.responder.finish()
    }
}

extension HTTPIngress {
    /// Reads the stream `uid` from its start into `reader`; a stream that has not started yet is
    /// waited for up to `pipeline.attach_wait`, then answered 404.
    func attachCompatReader(_ reader: any StreamJournalReader, uid: String, context: RouteContext) {
        let journal = pipeline.journal
        context.responder.onClientGone { journal.detach(reader, uid: uid) }
        guard journal.attach(reader, uid: uid, after: 0) == .waiting else { return }
        let wait = configuration.attachWait
        Task {
            if wait > .zero { try? await Task.sleep(for: wait) }
            if journal.stopWaiting(reader, uid: uid) { context.respond(Self.unknownStream(uid)) }
        }
    }

    /// The head of a compatibility SSE answer: no caching, no proxy buffering.
    static func compatEventStreamHead(extraHeaders: [(name: String, value: String)] = []) -> HTTPResponseHead {
        HTTPResponseHead(
            status: 200, contentType: "text/event-stream; charset=utf-8",
            headers: [("cache-control", "no-cache"), ("x-accel-buffering", "no")] + extraHeaders)
    }

    /// A comment line every `server.sse_keepalive` of silence: every SSE client ignores it.
    var compatKeepalive: StreamHeartbeat {
        StreamHeartbeat(interval: configuration.sseKeepalive, bytes: Array(": keep-alive\n\n".utf8))
    }
}
