import Synchronization

/// A handle on one WebSocket connection that any thread may use. It holds only an id: the
/// libwebsockets connection itself never leaves the server thread.
public final class WebSocketConnection: Sendable {
    public let id: UInt64
    let loop: ServerLoop
    /// Set while a write request is on its way to the server thread, so a burst of publications
    /// costs one wake-up.
    let writeRequested = Atomic<Bool>(false)

    init(id: UInt64, loop: ServerLoop) {
        self.id = id
        self.loop = loop
    }

    /// Asks for a writeable callback: the session then gets `webSocketNextFrame` calls.
    public func requestWrite() {
        guard !writeRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loop.post(.webSocketWrite(id))
    }

    /// Sends a close frame with `code` and `reason` (after what is already being written) and ends
    /// the connection; frames the session still has are not asked for.
    public func close(code: UInt16, reason: String) {
        loop.post(.webSocketClose(id, code: code, reason: reason))
    }

    /// Calls `webSocketTick` on the server thread after `delay` (replacing any earlier tick).
    public func scheduleTick(after delay: Duration) {
        loop.post(.webSocketTick(id, delay))
    }
}
