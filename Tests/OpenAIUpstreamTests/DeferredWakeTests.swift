import Curl
import Foundation
import Logging
import Synchronization
import Testing

@testable import WebServer

/// Keeps the responder of the one request it gets, for the test to stream through.
private final class HeldStream: HTTPHandler {
    let responder = Mutex<HTTPResponder?>(nil)
    let arrived = DispatchSemaphore(value: 0)

    func handle(_ request: HTTPRequest, responder: HTTPResponder) -> HTTPRouteDecision {
        self.responder.withLock { $0 = responder }
        arrived.signal()
        return .handled
    }

    func errorResponse(status: Int, message: String, request: HTTPRequest?) -> HTTPResponse {
        HTTPResponse(status: status, body: Array(message.utf8))
    }
}

@Suite("Deferred wakes of the server thread")
struct DeferredWakeTests {
    @Test func writesFromADeferringThreadWakeTheServerOnceWhenFlushed() async throws {
        let handler = HeldStream()
        var started: WebServer?
        for _ in 0..<20 where started == nil {
            let server = WebServer(
                configuration: WebServerConfiguration(host: "127.0.0.1", port: Int.random(in: 20000..<60000), webRoot: nil),
                handler: handler, logger: Logger(label: "test"))
            if (try? server.start()) != nil { started = server }
        }
        let server = try #require(started)
        defer { server.stop(flushTimeout: .zero) }
        let loop = try CurlMultiLoop(name: "curl-test")
        defer { loop.shutdown() }
        let request = CurlRequest(url: "http://127.0.0.1:\(server.configuration.port)/stream")
        async let response = loop.perform(request)
        #expect(handler.arrived.wait(timeout: .now() + 10) == .success)
        let responder = try #require(handler.responder.withLock { $0 })

        // Every thread defers: nothing below wakes the server until the flush.
        server.deferWakes(from: { true })
        let before = server.wakeCount
        responder.startStream(HTTPResponseHead(status: 200, contentType: "text/plain"))
        for index in 0..<50 { responder.write(Array("chunk \(index)\n".utf8)) }
        responder.finish()
        #expect(server.wakeCount == before, "50 writes, no wake yet")
        server.flushDeferredWakes()
        #expect(server.wakeCount == before + 1, "one wake for all of them")
        server.flushDeferredWakes()
        #expect(server.wakeCount == before + 1, "nothing left to flush")

        let body = String(decoding: try await response.body, as: UTF8.self)
        #expect(body == (0..<50).map { "chunk \($0)\n" }.joined())
    }
}
