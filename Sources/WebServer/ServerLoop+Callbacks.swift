import CLibWebSockets

/// The one C callback of the HTTP protocol; finds the loop through the context's user pointer.
func webServerCallback(
    wsi: OpaquePointer?, reason: lws_callback_reasons, user: UnsafeMutableRawPointer?,
    input: UnsafeMutableRawPointer?, length: Int
) -> Int32 {
    guard let wsi, let context = lws_get_context(wsi), let raw = lws_context_user(context) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    let loop = Unmanaged<ServerLoop>.fromOpaque(raw).takeUnretainedValue()
    return loop.handle(wsi: wsi, reason: reason, session: user, input: input, length: length)
}

extension ServerLoop {
    /// Per-session memory holds only the current exchange id, never a Swift reference.
    private func exchangeID(_ session: UnsafeMutableRawPointer?) -> UInt64 {
        session?.load(as: UInt64.self) ?? 0
    }

    func handle(
        wsi: OpaquePointer, reason: lws_callback_reasons, session: UnsafeMutableRawPointer?,
        input: UnsafeMutableRawPointer?, length: Int
    ) -> Int32 {
        switch reason {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            drainInbox()
            return 0
        case LWS_CALLBACK_HTTP:
            return beginExchange(wsi: wsi, session: session, uri: input)
        case LWS_CALLBACK_HTTP_BODY:
            guard let exchange = exchanges[exchangeID(session)], let input else { return 0 }
            receiveBody(exchange, bytes: UnsafeRawBufferPointer(start: input, count: length))
            return 0
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            guard let exchange = exchanges[exchangeID(session)] else { return 0 }
            if exchange.drainingBody {
                exchange.drainingBody = false
                if exchange.phase == .closing { lws_callback_on_writable(wsi) }
                return 0
            }
            guard exchange.phase == .receiving else { return 0 }
            if exchange.bodyOverflow {
                refuse(exchange, status: 413, message: bodyTooLargeMessage, close: false)
            } else {
                dispatch(exchange)
            }
            return 0
        case LWS_CALLBACK_HTTP_WRITEABLE:
            guard let exchange = exchanges[exchangeID(session)] else { return 0 }
            return writeStep(exchange)
        case LWS_CALLBACK_TIMER:
            if let exchange = exchanges[exchangeID(session)] {
                heartbeatTick(exchange)
            } else if let socket = sockets[exchangeID(session)], socket.wsi == wsi {
                socket.session.webSocketTick()
            }
            return 0
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            return confirmUpgrade(wsi: wsi)
        case LWS_CALLBACK_ESTABLISHED:
            return webSocketEstablished(wsi: wsi, session: session)
        case LWS_CALLBACK_RECEIVE:
            guard let socket = sockets[exchangeID(session)], socket.wsi == wsi else { return 0 }
            return webSocketReceive(socket, bytes: UnsafeRawBufferPointer(start: input, count: input == nil ? 0 : length))
        case LWS_CALLBACK_SERVER_WRITEABLE:
            guard let socket = sockets[exchangeID(session)], socket.wsi == wsi else { return 0 }
            return webSocketWriteable(socket)
        case LWS_CALLBACK_CLOSED:
            webSocketClosed(wsi: wsi, session: session)
            return 0
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            return 0
        case LWS_CALLBACK_RAW_ADOPT:
            return unparsedAdopted(wsi: wsi)
        case LWS_CALLBACK_RAW_RX:
            return unparsedReceived(wsi: wsi, bytes: UnsafeRawBufferPointer(start: input, count: input == nil ? 0 : length))
        case LWS_CALLBACK_RAW_WRITEABLE:
            return unparsedWriteable(wsi: wsi)
        case LWS_CALLBACK_RAW_CLOSE:
            unparsedClosed(wsi: wsi)
            return 0
        case LWS_CALLBACK_HTTP_FILE_COMPLETION:
            return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
        case LWS_CALLBACK_CLOSED_HTTP, LWS_CALLBACK_HTTP_DROP_PROTOCOL:
            if let exchange = exchanges[exchangeID(session)], exchange.wsi == wsi {
                clientGone(exchange)
            }
            return 0
        default:
            return lws_callback_http_dummy(wsi, reason, session, input, length)
        }
    }

    var bodyTooLargeMessage: String {
        "The request body is larger than the limit of \(configuration.maxBodyBytes) bytes."
    }

    /// A new request on the connection: read its head, refuse it early if it is too big, and
    /// either wait for its body or hand it to the handler now.
    private func beginExchange(wsi: OpaquePointer, session: UnsafeMutableRawPointer?, uri: UnsafeMutableRawPointer?) -> Int32 {
        let id = nextExchangeID
        nextExchangeID += 1
        session?.storeBytes(of: id, as: UInt64.self)
        let exchange = Exchange(id: id, wsi: wsi)
        exchanges[id] = exchange
        let headerBytes = readHead(into: exchange, uri: uri)
        if headerBytes > configuration.maxHeaderBytes {
            refuse(
                exchange, status: 431,
                message: "The request headers are larger than the limit of \(configuration.maxHeaderBytes) bytes.",
                close: true)
            return 0
        }
        // libwebsockets 4.1 reads no chunked request body: it would never end, and its bytes would
        // be read as the next request (whatever the method: a chunked GET behind a proxy would
        // smuggle one). Said at once (411, as RFC 9110 has it), then closed.
        if exchange.headers.contains(where: { $0.name == "transfer-encoding" }) {
            refuse(
                exchange, status: 411,
                message: "A request body needs a Content-Length: Transfer-Encoding (chunked bodies) is not supported.",
                close: true)
            return 0
        }
        // A length that is not one whole number leaves nowhere the body ends (RFC 9112 6.3):
        // refused, and the connection closed rather than read on from a guess.
        let lengths = exchange.headers.filter { $0.name == "content-length" }.map(\.value)
        var declared: Int?
        if let length = lengths.first {
            guard lengths.count == 1, !length.isEmpty, length.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                refuse(
                    exchange, status: 400, message: "Content-Length must be one whole number of bytes, not '\(lengths.joined(separator: ", "))'.",
                    close: true)
                return 0
            }
            // All digits, so nil only when it does not fit in an Int: far over any limit.
            declared = Int(length) ?? Int.max
        }
        guard Self.methodsWithBody.contains(exchange.method) else {
            dispatch(exchange)
            return 0
        }
        if let declared, declared > configuration.maxBodyBytes {
            // Answer at once; keep reading and dropping a moderately oversized body until it ends
            // so the client reads the 413 rather than a reset, and close after an absurd one.
            exchange.bodyOverflow = true
            exchange.drainingBody = declared <= Self.drainLimit
            refuse(exchange, status: 413, message: bodyTooLargeMessage, close: true)
            return 0
        }
        if (declared ?? 0) == 0 {
            dispatch(exchange)
        }
        return 0
    }

    static let methodsWithBody: Set<String> = ["POST", "PUT", "PATCH"]
    /// Oversized bodies up to this size are read and discarded; bigger ones close the connection.
    static let drainLimit = 64 << 20

    private func receiveBody(_ exchange: Exchange, bytes: UnsafeRawBufferPointer) {
        guard exchange.phase == .receiving, !exchange.bodyOverflow else { return }
        if exchange.body.count + bytes.count > configuration.maxBodyBytes {
            exchange.bodyOverflow = true
            exchange.body = []
            return
        }
        exchange.body.append(contentsOf: bytes)
    }

    /// Gives the request to the handler; falls back to a static file or 404.
    func dispatch(_ exchange: Exchange) {
        exchange.phase = .awaitingResponse
        let request = exchange.request()
        let responder = HTTPResponder(exchange: exchange.id, loop: self)
        switch handler.handle(request, responder: responder) {
        case .handled:
            // Everything the handler needs was copied out: give the header buffer (up to twice
            // max_header_bytes) back to the pool now instead of holding it for a long stream.
            _ = lws_http_headers_detach(exchange.wsi)
            return
        case .notARoute:
            if request.method == "GET" || request.method == "HEAD", serveStaticFile(exchange, request: request) {
                return
            }
            let response = handler.errorResponse(status: 404, message: "No route for \(request.method) \(request.path).", request: request)
            responder.respond(response)
        }
    }

    /// Answers a request the server itself refused, in the application's error shape.
    func refuse(_ exchange: Exchange, status: Int, message: String, close: Bool) {
        exchange.phase = .awaitingResponse
        exchange.closeWhenDone = close
        let response = handler.errorResponse(status: status, message: message, request: exchange.request())
        post(.respond(exchange.id, response))
    }
}
