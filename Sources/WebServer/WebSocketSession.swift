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
    /// again as long as frames keep coming (one per writeable callback).
    func webSocketNextFrame() -> WebSocketFrame?
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
