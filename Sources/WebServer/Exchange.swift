/// One request/response on a connection, owned by the server thread.
final class Exchange {
    enum Phase {
        /// Reading the request body.
        case receiving
        /// The handler has the request; nothing written yet.
        case awaitingResponse
        /// A head is queued; the next writeable callback sends it.
        case headQueued
        /// Head sent; body bytes flow as they come.
        case sendingBody
        /// The final bytes are written; the next writeable callback completes the transaction.
        case completing
        /// A refused request whose body was not read: close once the answer is flushed.
        case closing
    }

    let id: UInt64
    let wsi: OpaquePointer
    var phase = Phase.receiving
    var method = ""
    var path = ""
    var query: [(name: String, value: String)] = []
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    /// Set when the body went over the limit: the rest is read and dropped, then 413 is sent.
    var bodyOverflow = false
    var head: HTTPResponseHead?
    /// Nil while streaming with no known length.
    var contentLength: Int?
    var pending = OutputQueue()
    var finishRequested = false
    var clientGoneCallbacks: [@Sendable () -> Void] = []
    var heartbeat: StreamHeartbeat?
    var lastWrite = ContinuousClock.now
    /// The body goes out in HTTP/1.1 chunked framing (a stream of unknown length).
    var chunked = false
    /// The client fell too far behind: close at the next writeable callback.
    var abandoned = false
    /// Close instead of keeping the connection alive once the response is out.
    var closeWhenDone = false
    /// A refused body is still arriving: read and drop it before closing, so the client gets to
    /// read the answer instead of a reset.
    var drainingBody = false

    init(id: UInt64, wsi: OpaquePointer) {
        self.id = id
        self.wsi = wsi
    }

    var isStreaming: Bool { contentLength == nil }

    func request() -> HTTPRequest {
        HTTPRequest(method: method, path: path, query: query, headers: headers, body: body)
    }
}
