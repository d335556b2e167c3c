import CLibWebSockets

extension ServerLoop {
    /// One step per writeable callback: the head, or one slice of the body. libwebsockets buffers a
    /// partial send itself and calls back only once that is flushed, so one lws_write per callback.
    func writeStep(_ exchange: Exchange) -> Int32 {
        // Returning -1 closes the connection; CLOSED_HTTP then runs the client-gone callbacks.
        if exchange.abandoned { return -1 }
        switch exchange.phase {
        case .headQueued:
            guard let headLength = composeHead(exchange) else { return -1 }
            exchange.phase = .sendingBody
            if exchange.chunked && (!exchange.pending.isEmpty || exchange.finishRequested) {
                // The answer's first bytes are here already (a fast model): they go out in the
                // head's send, one system call and one wakeup of the client fewer per response.
                return writeBody(exchange, after: headLength)
            }
            let start = scratch.advanced(by: Int(TB_LWS_PRE)).assumingMemoryBound(to: UInt8.self)
            guard lws_write(exchange.wsi, start, headLength, LWS_WRITE_HTTP_HEADERS) == headLength else { return -1 }
            if !exchange.pending.isEmpty || exchange.finishRequested { lws_callback_on_writable(exchange.wsi) }
            return 0
        case .sendingBody:
            return writeBody(exchange)
        case .closing:
            // The refusal is flushed; its body was not used, so the connection cannot be reused.
            // While that body is still arriving, wait for its end (lws' idle timeout bounds this).
            if exchange.drainingBody { return 0 }
            exchanges[exchange.id] = nil
            return -1
        default:
            return 0
        }
    }

    /// Puts the response head in the scratch buffer, unsent; returns its length.
    private func composeHead(_ exchange: Exchange) -> Int? {
        guard let head = exchange.head else { return nil }
        let start = scratch.advanced(by: Int(TB_LWS_PRE)).assumingMemoryBound(to: UInt8.self)
        let end = start.advanced(by: Self.scratchCapacity)
        var cursor: UnsafeMutablePointer<UInt8>? = start
        if exchange.contentLength == nil {
            // A stream of unknown length: lws would answer "connection: close" and drop the
            // connection after every SSE response. Chunked framing (done in writeBody) keeps
            // the connection for the client's next request, as model servers and proxies do.
            guard lws_add_http_header_status(exchange.wsi, UInt32(head.status), &cursor, end) == 0 else { return nil }
            // lws writes the status line in the request's HTTP version, which it does not
            // otherwise expose; HTTP/1.0 has no chunked framing, so it keeps lws' close-delimited body.
            exchange.chunked = !UnsafeRawBufferPointer(start: start, count: 8).elementsEqual("HTTP/1.0".utf8)
            if !exchange.chunked { cursor = start }
        }
        if exchange.chunked {
            guard addHeader(exchange.wsi, "content-type", head.contentType, &cursor, end),
                addHeader(exchange.wsi, "transfer-encoding", "chunked", &cursor, end)
            else { return nil }
        } else {
            let length = exchange.contentLength.map { lws_filepos_t($0) } ?? tb_lws_illegal_http_content_len()
            guard
                lws_add_http_common_headers(exchange.wsi, UInt32(head.status), head.contentType, length, &cursor, end) == 0
            else { return nil }
        }
        for (name, value) in head.headers {
            guard addHeader(exchange.wsi, name.lowercased(), value, &cursor, end) else { return nil }
        }
        if exchange.closeWhenDone {
            guard addHeader(exchange.wsi, "connection", "close", &cursor, end) else { return nil }
        }
        guard lws_finalize_http_header(exchange.wsi, &cursor, end) == 0, let cursor else { return nil }
        exchange.lastWrite = .now
        return start.distance(to: cursor)
    }

    /// One slice of the body, framed, sent after the `prefix` bytes already in the scratch buffer
    /// (the head, when the first bytes go out with it).
    private func writeBody(_ exchange: Exchange, after prefix: Int = 0) -> Int32 {
        let count = min(exchange.pending.count, Self.scratchCapacity - prefix)
        let isLast = exchange.finishRequested && count == exchange.pending.count
        if count == 0 && !isLast && prefix == 0 { return 0 }
        let payload = scratch.advanced(by: Int(TB_LWS_PRE))
        var length = prefix
        func append(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            payload.advanced(by: length).copyMemory(from: base, byteCount: bytes.count)
            length += bytes.count
        }
        if exchange.chunked && count > 0 {
            String(count, radix: 16).utf8.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
            Self.crlf.withUnsafeBytes(append)
        }
        exchange.pending.withFront(count, append)
        if exchange.chunked {
            if count > 0 { Self.crlf.withUnsafeBytes(append) }
            if isLast { Self.lastChunk.withUnsafeBytes(append) }
        }
        exchange.pending.consume(count)
        let protocolFlag = isLast ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP
        let written = lws_write(exchange.wsi, payload.assumingMemoryBound(to: UInt8.self), length, protocolFlag)
        guard written >= 0 else { return -1 }
        exchange.lastWrite = .now
        if isLast {
            return completeExchange(exchange)
        }
        if !exchange.pending.isEmpty || exchange.finishRequested { lws_callback_on_writable(exchange.wsi) }
        return 0
    }

    static let crlf: [UInt8] = [13, 10]
    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    private func addHeader(
        _ wsi: OpaquePointer, _ name: String, _ value: String, _ cursor: inout UnsafeMutablePointer<UInt8>?,
        _ end: UnsafeMutablePointer<UInt8>
    ) -> Bool {
        let key = name + ":"
        return key.withCString { keyPointer in
            keyPointer.withMemoryRebound(to: UInt8.self, capacity: key.utf8.count + 1) { keyBytes in
                lws_add_http_header_by_name(wsi, keyBytes, value, Int32(value.utf8.count), &cursor, end) == 0
            }
        }
    }

    /// The response is out: forget the exchange and let lws keep or close the connection.
    private func completeExchange(_ exchange: Exchange) -> Int32 {
        exchange.clientGoneCallbacks = []
        if exchange.closeWhenDone {
            exchange.phase = .closing
            lws_callback_on_writable(exchange.wsi)
            return 0
        }
        exchanges[exchange.id] = nil
        if exchange.heartbeat != nil { lws_set_timer_usecs(exchange.wsi, -1) }
        return lws_http_transaction_completed(exchange.wsi) != 0 ? -1 : 0
    }

    /// Writes the heartbeat when the stream has been silent a whole interval; re-arms either way.
    func heartbeatTick(_ exchange: Exchange) {
        guard let heartbeat = exchange.heartbeat, exchange.phase == .sendingBody || exchange.phase == .headQueued,
            !exchange.finishRequested
        else { return }
        let silent = ContinuousClock.now - exchange.lastWrite
        if silent >= heartbeat.interval, exchange.phase == .sendingBody, exchange.pending.isEmpty {
            exchange.pending.append(contentsOf: heartbeat.bytes)
            lws_callback_on_writable(exchange.wsi)
            armTimer(exchange, after: heartbeat.interval)
        } else {
            armTimer(exchange, after: max(heartbeat.interval - silent, .milliseconds(10)))
        }
    }
}
