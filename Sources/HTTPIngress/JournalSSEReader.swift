import BridgeCore
import Synchronization
import WebServer

/// One `GET /v1/streams/{uid}` response: the stream's events as SSE (`id:` = seq, `event:` =
/// type, `data:` = the event), starting once the stream exists, ending after its terminal event.
final class JournalSSEReader: StreamJournalReader {
    private let context: RouteContext
    private let heartbeat: StreamHeartbeat
    /// Whether the head went out (it waits for the stream, so an unknown one can still be 404).
    private let started = Atomic<Bool>(false)

    init(context: RouteContext, keepalive: Duration) {
        self.context = context
        heartbeat = StreamHeartbeat(interval: keepalive, bytes: Array(": keep-alive\n\n".utf8))
    }

    func journalDidAttach(epoch: String) {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        context.startStream(
            HTTPResponseHead(
                status: 200, contentType: "text/event-stream; charset=utf-8",
                headers: [
                    ("x-stream-id", context.request.streamPathUID ?? ""), ("x-stream-epoch", epoch), ("cache-control", "no-cache"),
                    ("x-accel-buffering", "no"),
                ]),
            heartbeat: heartbeat)
    }

    func journal(didRecord event: RecordedEvent) {
        var bytes: [UInt8] = []
        Self.appendFrame(event, to: &bytes)
        context.responder.write(bytes)
    }

    /// One write for the lot (the whole replay, when there is one): each write is a post to the
    /// server thread.
    func journal(didReplay events: [RecordedEvent]) {
        var bytes: [UInt8] = []
        // A token's frame is about 150 bytes (a uid, a seq and its text); growth covers the rest.
        bytes.reserveCapacity(events.count * 160)
        for event in events { Self.appendFrame(event, to: &bytes) }
        if !bytes.isEmpty { context.responder.write(bytes) }
    }

    func journalDidFinish() {
        context.responder.finish()
    }

    /// `id: <seq>`, `event: <type>`, `data: <event JSON>` (one line: the JSON has no newlines).
    static func appendFrame(_ event: RecordedEvent, to bytes: inout [UInt8]) {
        bytes += "id: \(event.seq)\nevent: \(event.type)\ndata: ".utf8
        bytes += event.json
        bytes += [0x0A, 0x0A]
    }
}

extension HTTPRequest {
    /// The uid of a `/v1/streams/{uid}[/...]` path.
    var streamPathUID: String? {
        let prefix = "/v1/streams/"
        guard path.hasPrefix(prefix) else { return nil }
        let rest = path.dropFirst(prefix.count)
        return rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
    }
}
