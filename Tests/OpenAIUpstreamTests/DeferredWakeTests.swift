import Curl
import Foundation
import Logging
import Synchronization
import Testing

@testable import WebServer

/// Keeps the responder of the one request it gets, for the test to stream through.
private final class HeldStream: HTTPHandler {
    private struct State {
        var responder: HTTPResponder?
        var waiter: CheckedContinuation<HTTPResponder, Never>?
    }

    private let state = Mutex(State())

    func handle(_ request: HTTPRequest, responder: HTTPResponder) -> HTTPRouteDecision {
        let waiter = state.withLock { state -> CheckedContinuation<HTTPResponder, Never>? in
            state.responder = responder
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: responder)
        return .handled
    }

    /// The responder, once the request has arrived (awaited, not polled).
    func responder() async -> HTTPResponder {
        await withCheckedContinuation { continuation in
            let held = state.withLock { state -> HTTPResponder? in
                if let responder = state.responder { return responder }
                state.waiter = continuation
                return nil
            }
            if let held { continuation.resume(returning: held) }
        }
    }

    func errorResponse(status: Int, message: String, request: HTTPRequest?) -> HTTPResponse {
        HTTPResponse(status: status, body: Array(message.utf8))
    }
}

/// A server for `handler` on a free loopback port, or nil after 20 ports were taken.
private func startServer(_ handler: HeldStream) -> WebServer? {
    for _ in 0..<20 {
        let server = WebServer(
            configuration: WebServerConfiguration(host: "127.0.0.1", port: Int.random(in: 20000..<32768), webRoot: nil),
            handler: handler, logger: Logger(label: "test"))
        if (try? server.start()) != nil { return server }
    }
    return nil
}

@Suite("Deferred wakes of the server thread")
struct DeferredWakeTests {
    @Test func writesFromADeferringThreadWakeTheServerOnceWhenFlushed() async throws {
        let handler = HeldStream()
        let server = try #require(startServer(handler))
        defer { server.stop(flushTimeout: .zero) }
        let loop = try CurlMultiLoop(name: "curl-test")
        defer { loop.shutdown() }
        let request = CurlRequest(url: "http://127.0.0.1:\(server.configuration.port)/stream")
        async let response = loop.perform(request)
        let responder = await handler.responder()

        // Every thread defers: nothing below wakes the server until the flush, or until 64
        // posts have waited (the head and 63 writes).
        server.deferWakes(from: { true })
        let before = server.wakeCount
        responder.startStream(HTTPResponseHead(status: 200, contentType: "text/plain"))
        for index in 0..<62 { responder.write(Array("chunk \(index)\n".utf8)) }
        #expect(server.wakeCount == before, "63 posts, no wake yet")
        responder.write(Array("chunk 62\n".utf8))
        #expect(server.wakeCount == before + 1, "the 64th post wakes the server without waiting for the flush")
        for index in 63..<80 { responder.write(Array("chunk \(index)\n".utf8)) }
        responder.finish()
        #expect(server.wakeCount == before + 1)
        server.flushDeferredWakes()
        // One more wake for the rest, unless the earlier one is still pending (the server thread
        // has not drained yet): then it carries them.
        let afterFlush = server.wakeCount
        #expect((before + 1...before + 2).contains(afterFlush))
        server.flushDeferredWakes()
        #expect(server.wakeCount == afterFlush, "nothing left to flush")

        let body = String(decoding: try await response.body, as: UTF8.self)
        #expect(body == (0..<80).map { "chunk \($0)\n" }.joined())
    }
}

@Suite("Posts after the server stopped")
struct LatePostTests {
    /// A stream that ends after the server stopped still writes its last bytes: they must go
    /// nowhere, never into the destroyed libwebsockets context.
    @Test func writesAfterStopWakeNothing() async throws {
        let handler = HeldStream()
        let server = try #require(startServer(handler))
        let loop = try CurlMultiLoop(name: "curl-late")
        defer { loop.shutdown() }
        let request = CurlRequest(url: "http://127.0.0.1:\(server.configuration.port)/stream")
        async let response = loop.perform(request)
        let responder = await handler.responder()
        responder.startStream(HTTPResponseHead(status: 200, contentType: "text/plain"))
        responder.write(Array("before\n".utf8))
        #expect(server.wakeTargetIsLive)
        server.stop(flushTimeout: .zero)
        #expect(!server.wakeTargetIsLive, "retired before the context was destroyed")
        let wakesAtStop = server.wakeCount
        for index in 0..<100 { responder.write(Array("after \(index)\n".utf8)) }
        responder.finish()
        server.flushDeferredWakes()
        #expect(server.wakeCount <= wakesAtStop + 1, "at most the one wake a pending flag lets through, and it wakes nothing")
        // The client sees the connection end, with or without the bytes written before the stop.
        _ = try? await response
    }
}
