import Glibc

/// One accepted connection of the test server: parses requests (keep-alive: one after another) and
/// answers each according to its path:
///   /fixed?status=S&body=B[&interim=1]   status S with headers and body B (interim: 100 and 103 first)
///   /echo                                 200 with the request body as the response body
///   /stream?chunks=N&size=B&interval=MS[&gate=1]  N chunks of B bytes, chunked encoding, MS apart;
///                                         gate=1: after the first chunk, wait for `releaseGate(id)`
///   /forever?size=B&interval=MS           chunks until the client goes away
///   /silent                               read the request, never answer
final class TestConnection {
    let fd: Int32
    let serial: Int
    private let shared: TestServerShared
    private(set) var isClosed = false
    private var input: [UInt8] = []
    private var output: [UInt8] = []
    private var outputStart = 0
    private var exchange: Exchange?

    private struct Exchange {
        var id: String
        /// Chunks to send: nil streams forever, 0 means silent.
        var chunks: Int?
        var size = 0
        var interval = Duration.zero
        var gated = false
        var sent = 0
        var waitingForGate = false
        var nextAt: ContinuousClock.Instant?
    }

    init(fd: Int32, serial: Int, shared: TestServerShared) {
        self.fd = fd
        self.serial = serial
        self.shared = shared
    }

    var wantsToWrite: Bool { outputStart < output.count }
    var nextEventAt: ContinuousClock.Instant? { exchange?.nextAt }

    func readAvailable() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                input.append(contentsOf: buffer[0..<count])
            } else if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                clientClosed()
                return
            }
        }
        processInput()
    }

    func flush() {
        while outputStart < output.count {
            let sent = output.withUnsafeBytes { bytes -> Int in
                guard let base = bytes.baseAddress else { return 0 }
                return send(fd, base + outputStart, bytes.count - outputStart, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                outputStart += sent
            } else if sent < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                return
            } else {
                clientClosed()
                return
            }
        }
        output.removeAll(keepingCapacity: true)
        outputStart = 0
    }

    /// Sends the next chunk of a stream when its time has come.
    func tick(now: ContinuousClock.Instant, releasedGates: Set<String>) {
        guard var current = exchange, current.chunks != 0 else { return }
        if current.waitingForGate {
            guard releasedGates.contains(current.id) else { return }
            current.waitingForGate = false
            current.nextAt = now
        }
        guard let nextAt = current.nextAt, nextAt <= now else { return }
        let byte = UInt8(ascii: "a") + UInt8(current.sent % 26)
        queue("\(String(current.size, radix: 16))\r\n")
        output.append(contentsOf: repeatElement(byte, count: current.size))
        queue("\r\n")
        current.sent += 1
        let size = current.size
        shared.update(current.id) {
            $0.chunksSent += 1
            $0.bytesSent += size
        }
        if let chunks = current.chunks, current.sent >= chunks {
            queue("0\r\n\r\n")
            complete(current.id)
            flush()
            processInput()
            return
        }
        if current.gated && current.sent == 1 {
            current.waitingForGate = true
            current.nextAt = nil
        } else {
            current.nextAt = now + current.interval
        }
        exchange = current
        flush()
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    private func clientClosed() {
        if let current = exchange {
            shared.update(current.id) { $0.clientClosedEarly = true }
            exchange = nil
        }
        close()
    }

    private func complete(_ id: String) {
        shared.update(id) { $0.responseComplete = true }
        exchange = nil
    }

    private func queue(_ text: String) {
        output.append(contentsOf: Array(text.utf8))
    }

    // MARK: - Requests

    private func processInput() {
        while !isClosed, exchange == nil, let request = TestRequestParser.parse(&input) {
            answer(request)
        }
        flush()
    }

    private func answer(_ request: TestRequestParser.Request) {
        let query = request.query
        let id = query["id"] ?? "connection-\(serial)-\(request.target)"
        let served = ServedRequest(
            method: request.method, target: request.target, headers: request.headers, body: request.body,
            receivedAt: .now, connection: serial)
        shared.state.withLock { $0.requests[id] = served }
        let milliseconds = Int(query["interval"] ?? "") ?? 0
        let size = Int(query["size"] ?? "") ?? 16
        switch request.path {
        case "/fixed":
            if query["interim"] == "1" {
                queue("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
            }
            let status = Int(query["status"] ?? "") ?? 200
            let headers = "X-Test: fixed\r\nX-Multi: a\r\nX-Multi: b\r\n"
            respond(id, status: status, headers: headers, body: Array((query["body"] ?? "").utf8))
        case "/echo":
            respond(id, status: 200, headers: "Content-Type: application/octet-stream\r\n", body: request.body)
        case "/stream", "/forever":
            queue("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
            let chunks = request.path == "/forever" ? nil : Int(query["chunks"] ?? "") ?? 3
            exchange = Exchange(
                id: id, chunks: chunks, size: size, interval: .milliseconds(milliseconds), gated: query["gate"] == "1",
                nextAt: .now)
        case "/silent":
            exchange = Exchange(id: id, chunks: 0)
        default:
            respond(id, status: 404, headers: "", body: Array("no such path".utf8))
        }
    }

    private func respond(_ id: String, status: Int, headers: String, body: [UInt8]) {
        queue("HTTP/1.1 \(status) Test\r\n\(headers)Content-Length: \(body.count)\r\n\r\n")
        output.append(contentsOf: body)
        shared.update(id) {
            $0.bytesSent = body.count
            $0.responseComplete = true
        }
    }
}
