import Centrifuge
import WebServer

/// A Centrifugo session on a libwebsockets connection: the WebServer's callbacks go to the
/// protocol session, the session's requests go to the connection.
final class WebSocketClientSession: WebSocketSession {
    let session: ClientSession

    init(session: ClientSession) {
        self.session = session
    }

    func webSocketDidOpen() { session.open() }

    func webSocketDidReceive(_ message: [UInt8], binary: Bool) { session.receive(message, binary: binary) }

    func webSocketNextFrame() -> WebSocketFrame? {
        switch session.nextFrame() {
        case nil: return nil
        case .text(let bytes): return .text(bytes)
        case .close(let disconnect): return .close(code: disconnect.code, reason: disconnect.reason)
        }
    }

    func webSocketHasQueuedFrames() -> Bool { session.hasQueuedOutput }

    func webSocketTick() { session.tick() }

    func webSocketDidClose() { session.closed() }
}

/// The session's view of its connection.
struct WebSocketTransport: ClientTransport {
    let connection: WebSocketConnection

    func requestWrite() { connection.requestWrite() }
    func close(_ disconnect: Disconnect) { connection.close(code: disconnect.code, reason: disconnect.reason) }
    func scheduleTick(after delay: Duration) { connection.scheduleTick(after: delay) }
}
