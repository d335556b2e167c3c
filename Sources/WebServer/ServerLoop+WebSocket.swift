import CLibWebSockets

extension ServerLoop {
    /// Upgrade requests: the handler accepts (the session waits for ESTABLISHED) or refuses with
    /// an HTTP response written here.
    func confirmUpgrade(wsi: OpaquePointer) -> Int32 {
        guard let handler = webSocketHandler else { return -1 }
        let id = nextExchangeID
        nextExchangeID += 1
        let probe = Exchange(id: id, wsi: wsi)
        probe.method = "GET"
        var uri = [CChar](repeating: 0, count: 1024)
        let length = lws_hdr_copy(wsi, &uri, Int32(uri.count), WSI_TOKEN_GET_URI)
        let path = length > 0 ? String(decoding: uri.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/"
        _ = path.withCString { readHead(into: probe, uri: UnsafeMutableRawPointer(mutating: $0)) }
        let connection = WebSocketConnection(id: id, loop: self)
        switch handler.upgrade(probe.request(), connection: connection) {
        case .refuse(let response):
            return writeImmediately(response, wsi: wsi) ? 1 : -1
        case .accept(let session):
            pendingUpgrades[UInt(bitPattern: wsi)] = Socket(id: id, wsi: wsi, connection: connection, session: session)
            return 0
        }
    }

    func webSocketEstablished(wsi: OpaquePointer, session storage: UnsafeMutableRawPointer?) -> Int32 {
        guard let socket = pendingUpgrades.removeValue(forKey: UInt(bitPattern: wsi)) else { return -1 }
        storage?.storeBytes(of: socket.id, as: UInt64.self)
        sockets[socket.id] = socket
        socket.opened = true
        socket.session.webSocketDidOpen()
        return 0
    }

    /// A fragment of a message: gathered until the message is whole, within the size limit.
    /// Past the limit the connection closes at once (1009), without waiting for a final
    /// fragment that a hostile client would never send. A frame whose header declares more than
    /// the limit is refused at its first bytes, not after the rest was awaited.
    func webSocketReceive(_ socket: Socket, bytes: UnsafeRawBufferPointer) -> Int32 {
        guard !socket.oversized else { return 0 }
        if socket.message.isEmpty { socket.messageIsBinary = lws_frame_is_binary(socket.wsi) != 0 }
        // Compared without adding: a frame may announce up to 2^63-1 bytes, and a sum past Int's
        // range would trap.
        let received = socket.message.count + bytes.count
        let remaining = lws_remaining_packet_payload(socket.wsi)
        let limit = configuration.maxWebSocketMessageBytes
        guard received <= limit, remaining <= UInt64(limit - received) else {
            socket.oversized = true
            socket.message = []
            close(socket, code: 1009, reason: "message size limit")
            return 0
        }
        socket.message.append(contentsOf: bytes)
        guard lws_is_final_fragment(socket.wsi) != 0, lws_remaining_packet_payload(socket.wsi) == 0 else { return 0 }
        let message = socket.message
        socket.message = []
        socket.session.webSocketDidReceive(message, binary: socket.messageIsBinary)
        return 0
    }

    /// One frame per writeable callback: lws buffers a partial send itself and calls back only
    /// once it is flushed.
    func webSocketWriteable(_ socket: Socket) -> Int32 {
        if let closing = socket.closing { return sendClose(socket, closing) }
        socket.connection.writeRequested.store(false, ordering: .releasing)
        switch socket.session.webSocketNextFrame() {
        case nil:
            return 0
        case .close(let code, let reason):
            return sendClose(socket, (code, reason))
        case .text(let bytes):
            guard write(bytes, to: socket.wsi) else { return -1 }
            // Whatever the session queues from now on asks for its own callback (the flag was
            // cleared before the frame was taken); only what is already waiting needs one here.
            if socket.session.webSocketHasQueuedFrames() { lws_callback_on_writable(socket.wsi) }
            return 0
        }
    }

    private func sendClose(_ socket: Socket, _ closing: (code: UInt16, reason: String)) -> Int32 {
        // The reason travels in the close frame's 123-byte payload limit (after the 2-byte code).
        var reason = Array(closing.reason.utf8.prefix(120))
        reason.withUnsafeMutableBufferPointer { buffer in
            lws_close_reason(socket.wsi, lws_close_status(rawValue: UInt32(closing.code)), buffer.baseAddress, buffer.count)
        }
        return -1
    }

    private func write(_ bytes: [UInt8], to wsi: OpaquePointer) -> Bool {
        let headroom = Int(TB_LWS_PRE)
        if bytes.count <= Self.scratchCapacity {
            let payload = scratch.advanced(by: headroom)
            bytes.withUnsafeBytes { source in
                if let base = source.baseAddress { payload.copyMemory(from: base, byteCount: source.count) }
            }
            return lws_write(wsi, payload.assumingMemoryBound(to: UInt8.self), bytes.count, LWS_WRITE_TEXT) >= 0
        }
        // A frame bigger than the scratch buffer (a recovery with a long history): its own buffer.
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: headroom + bytes.count, alignment: 16)
        defer { buffer.deallocate() }
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { buffer.advanced(by: headroom).copyMemory(from: base, byteCount: source.count) }
        }
        return lws_write(wsi, buffer.advanced(by: headroom).assumingMemoryBound(to: UInt8.self), bytes.count, LWS_WRITE_TEXT) >= 0
    }

    func close(_ socket: Socket, code: UInt16, reason: String) {
        guard socket.closing == nil else { return }
        socket.closing = (code, reason)
        lws_callback_on_writable(socket.wsi)
    }

    func webSocketClosed(wsi: OpaquePointer, session storage: UnsafeMutableRawPointer?) {
        pendingUpgrades[UInt(bitPattern: wsi)] = nil
        let id = storage?.load(as: UInt64.self) ?? 0
        guard let socket = sockets[id], socket.wsi == wsi else { return }
        sockets[id] = nil
        socket.session.webSocketDidClose()
    }

    /// Writes a whole response from inside a callback (a refused upgrade); false if lws refused.
    /// The head is written by hand: lws would use HTTP/1.0 on an upgrade, which WebSocket
    /// clients reject as not a valid handshake answer.
    func writeImmediately(_ response: HTTPResponse, wsi: OpaquePointer) -> Bool {
        var bytes = [UInt8](repeating: 0, count: Int(TB_LWS_PRE)) + response.closingWireBytes()
        let length = bytes.count - Int(TB_LWS_PRE)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return false }
            return lws_write(wsi, base.advanced(by: Int(TB_LWS_PRE)), length, LWS_WRITE_HTTP_FINAL) >= 0
        }
    }

    /// On stop: every WebSocket gets a close frame (3001 shutdown: clients reconnect elsewhere).
    func closeAllWebSockets() {
        for socket in sockets.values { close(socket, code: 3001, reason: "shutdown") }
    }
}
