/// What a session needs from its connection; the WebSocket adapter provides it. Any thread.
public protocol ClientTransport: Sendable {
    /// Frames are queued: ask the session for them when the socket can take them.
    func requestWrite()
    /// Closes with a close frame carrying the code and reason.
    func close(_ disconnect: Disconnect)
    /// Calls the session's `tick` after `delay` (replaces the previous one).
    func scheduleTick(after delay: Duration)
}

/// What a session sends next.
public enum ClientFrame: Sendable, Equatable {
    /// One or more JSON lines joined by `\\n`.
    case text([UInt8])
    case close(Disconnect)
}
