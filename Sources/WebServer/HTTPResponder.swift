/// Answers one request from any thread. Calls after the client went away are ignored.
///
/// Holds only the exchange's id: the libwebsockets connection itself never leaves the server
/// thread (it can be freed at any time there).
public struct HTTPResponder: Sendable {
    let exchange: UInt64
    let loop: ServerLoop

    /// Sends a whole response and ends the exchange.
    public func respond(_ response: HTTPResponse) {
        loop.post(.respond(exchange, response))
    }

    /// Sends a response head with no content length; the body follows through `write`, and
    /// `finish` ends it. The heartbeat, if any, is written whenever the stream has been silent that long.
    public func startStream(_ head: HTTPResponseHead, heartbeat: StreamHeartbeat? = nil) {
        loop.post(.startStream(exchange, head, heartbeat))
    }

    public func write(_ bytes: [UInt8]) {
        loop.post(.write(exchange, bytes))
    }

    /// Writes the last bytes, if any, and ends the streamed response.
    public func finish(_ bytes: [UInt8] = []) {
        loop.post(.finish(exchange, bytes))
    }

    /// Runs `callback` once, on the server thread, when the client disconnects before the response
    /// ended (at once if it already has). Never runs after a response completed normally.
    public func onClientGone(_ callback: @escaping @Sendable () -> Void) {
        loop.post(.onClientGone(exchange, callback))
    }
}
