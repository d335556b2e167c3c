import CLibWebSockets

extension ServerLoop {
    /// One step per writeable callback: the head, or one slice of the body. libwebsockets buffers a
    /// partial send itself and calls back only once that is flushed, so one lws_write per callback.
    func writeStep(_ exchange: Exchange) -> Int32 {
        switch exchange.phase {
        case .headQueued:
            guard writeHead(exchange) else { return -1 }
            exchange.phase = .sendingBody
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

    private func writeHead(_ exchange: Exchange) -> Bool {
        guard let head = exchange.head else { return false }
        let start = scratch.advanced(by: Int(TB_LWS_PRE)).assumingMemoryBound(to: UInt8.self)
        let end = start.advanced(by: Self.scratchCapacity)
        var cursor: UnsafeMutablePointer<UInt8>? = start
        let length: lws_filepos_t = exchange.contentLength.map { lws_filepos_t($0) } ?? tb_lws_illegal_http_content_len()
        guard lws_add_http_common_headers(exchange.wsi, UInt32(head.status), head.contentType, length, &cursor, end) == 0 else {
            return false
        }
        for (name, value) in head.headers {
            let key = name.lowercased() + ":"
            let added = key.withCString { keyPointer in
                keyPointer.withMemoryRebound(to: UInt8.self, capacity: key.utf8.count + 1) { keyBytes in
                    lws_add_http_header_by_name(exchange.wsi, keyBytes, value, Int32(value.utf8.count), &cursor, end)
                }
            }
            guard added == 0 else { return false }
        }
        if exchange.closeWhenDone {
            let added = "connection:".withCString { keyPointer in
                keyPointer.withMemoryRebound(to: UInt8.self, capacity: 12) { keyBytes in
                    lws_add_http_header_by_name(exchange.wsi, keyBytes, "close", 5, &cursor, end)
                }
            }
            guard added == 0 else { return false }
        }
        exchange.lastWrite = .now
        return lws_finalize_write_http_header(exchange.wsi, start, &cursor, end) == 0
    }

    private func writeBody(_ exchange: Exchange) -> Int32 {
        let count = min(exchange.pending.count, Self.scratchCapacity)
        let isLast = exchange.finishRequested && count == exchange.pending.count
        if count == 0 && !isLast { return 0 }
        let payload = scratch.advanced(by: Int(TB_LWS_PRE))
        exchange.pending.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { payload.copyMemory(from: base, byteCount: count) }
        }
        exchange.pending.removeFirst(count)
        let protocolFlag = isLast ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP
        let written = lws_write(exchange.wsi, payload.assumingMemoryBound(to: UInt8.self), count, protocolFlag)
        guard written >= 0 else { return -1 }
        exchange.lastWrite = .now
        if isLast {
            return completeExchange(exchange)
        }
        if !exchange.pending.isEmpty || exchange.finishRequested { lws_callback_on_writable(exchange.wsi) }
        return 0
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
