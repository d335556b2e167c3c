/// One WebSocket connection, owned by the server thread.
final class Socket {
    let id: UInt64
    let wsi: OpaquePointer
    let connection: WebSocketConnection
    let session: any WebSocketSession
    /// The message being reassembled from fragments.
    var message: [UInt8] = []
    var messageIsBinary = false
    /// The message went over the limit: the rest of it is dropped and the connection closed (1009).
    var oversized = false
    /// Close with this at the next writeable callback.
    var closing: (code: UInt16, reason: String)?
    var opened = false

    init(id: UInt64, wsi: OpaquePointer, connection: WebSocketConnection, session: any WebSocketSession) {
        self.id = id
        self.wsi = wsi
        self.connection = connection
        self.session = session
    }
}
