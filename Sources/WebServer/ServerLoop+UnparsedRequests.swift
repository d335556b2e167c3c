import CLibWebSockets
import Glibc

/// Connections whose request lws' parser refused at the request line. With
/// LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG lws hands such a connection back as a
/// raw socket (RAW_ADOPT, then RAW_RX with the bytes it read) instead of answering its own HTML
/// 403; the bridge answers in its error shape, then closes.
extension ServerLoop {
    /// How long a refused client may keep its end open after the answer before it is closed.
    static let unparsedLingerSeconds: Int32 = 10

    func unparsedAdopted(wsi: OpaquePointer) -> Int32 {
        // lws cleared every timeout on the way to the raw role: bound the connection's life here.
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, Self.unparsedLingerSeconds)
        return 0
    }

    /// The first read carries the request line lws refused: answer it once; later reads (the
    /// rest of a body) are dropped while the answer goes out and the client closes.
    func unparsedReceived(wsi: OpaquePointer, bytes: UnsafeRawBufferPointer) -> Int32 {
        guard unparsedConnections.insert(UInt(bitPattern: wsi)).inserted else { return 0 }
        let refusal = UnparsedRequest(bytes: bytes)
        logger.debug("refused a request line the HTTP parser could not read", metadata: ["http.status": "\(refusal.status)"])
        let answer = handler.errorResponse(status: refusal.status, message: refusal.message, request: nil).closingWireBytes()
        guard answer.count <= Self.scratchCapacity else { return -1 }
        // Written now, as lws writes its own refusals from its parser, not at the next writeable
        // callback: a client that half-closed after its request would be closed by lws at the
        // end of this read before that callback came. lws keeps what the socket does not take.
        let start = scratch.advanced(by: Int(TB_LWS_PRE)).assumingMemoryBound(to: UInt8.self)
        _ = UnsafeMutableBufferPointer(start: start, count: answer.count).update(from: answer)
        // LWS_WRITE_RAW is a macro for LWS_WRITE_HTTP, which Swift does not import.
        guard lws_write(wsi, start, answer.count, LWS_WRITE_HTTP) == answer.count else { return -1 }
        return shutDownSendingOnceFlushed(wsi)
    }

    func unparsedWriteable(wsi: OpaquePointer) -> Int32 {
        guard unparsedConnections.contains(UInt(bitPattern: wsi)) else { return 0 }
        return shutDownSendingOnceFlushed(wsi)
    }

    /// Shuts the sending side once lws has flushed what it kept of the answer (it calls back when
    /// it is out), so the client reads the whole answer and then its end. Not closed at once:
    /// unread request bytes in a closed socket make the kernel answer with a reset, which can
    /// destroy the answer before the client reads it. The client closes after reading it
    /// (RAW_CLOSE), or the linger timeout does.
    private func shutDownSendingOnceFlushed(_ wsi: OpaquePointer) -> Int32 {
        if lws_partial_buffered(wsi) != 0 {
            lws_callback_on_writable(wsi)
            return 0
        }
        let fd = lws_get_socket_fd(wsi)
        if fd >= 0 { _ = shutdown(fd, Int32(SHUT_WR)) }
        return 0
    }

    func unparsedClosed(wsi: OpaquePointer) {
        unparsedConnections.remove(UInt(bitPattern: wsi))
    }
}
