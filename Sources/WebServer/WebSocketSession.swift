/// Accepts or refuses WebSocket upgrades. Called on the server thread: it must return quickly.
public protocol WebSocketHandler: Sendable {
    /// Decides an upgrade request (`GET` with `Upgrade: websocket`): accept with the session that
    /// will own the connection, or refuse with an HTTP response.
    func upgrade(_ request: HTTPRequest, connection: WebSocketConnection) -> WebSocketUpgrade
}

public enum WebSocketUpgrade: Sendable {
    case accept(any WebSocketSession)
    case refuse(HTTPResponse)
}

/// One WebSocket connection's protocol logic. Every method is called on the server thread, one
/// at a time; the session's own state must still be safe to reach from the threads that feed it
/// (publishers), which then call `connection.requestWrite()`.
public protocol WebSocketSession: AnyObject, Sendable {
    /// The handshake is done.
    func webSocketDidOpen()
    /// One whole message (fragments reassembled), text or binary.
    func webSocketDidReceive(_ message: [UInt8], binary: Bool)
    /// The socket can take a frame: the next one to send, or nil when nothing is queued. Asked
    /// again (one frame per writeable callback) while `webSocketHasQueuedFrames` says so, and
    /// whenever the session calls `connection.requestWrite()`.
    func webSocketNextFrame() -> WebSocketFrame?
    /// Right after a frame went out: whether another is already waiting. With thousands of
    /// subscribers, a writeable callback only to hear "nothing" would double the work per token.
    func webSocketHasQueuedFrames() -> Bool
    /// A tick scheduled with `connection.scheduleTick(after:)` is due.
    func webSocketTick()
    /// The connection is gone (closed by either side, or the server stopped).
    func webSocketDidClose()
}

/// What a session sends.
public enum WebSocketFrame: Sendable {
    case text([UInt8])
    /// A close frame with a status code and a short reason (at most 123 bytes), then the end.
    case close(code: UInt16, reason: String)
}
