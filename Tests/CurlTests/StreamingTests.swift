import Curl
import Synchronization
import Testing

/// One serialized suite: several tests measure time (lower bounds only), and the thousand-stream
/// test would otherwise compete with them for the CPU.
@Suite(.serialized) struct CurlMultiLoopTests {}

extension CurlMultiLoopTests {
    @Test func deliversChunksAsTheServerSendsThem() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let delegate = RecordingDelegate()

        // The server sends the first chunk, then holds the other four until the gate opens.
        loop.start(CurlRequest(url: server.url("/stream?id=gated&chunks=5&size=10&gate=1")), delegate: delegate)
        #expect(await eventually { delegate.snapshot.bodyBytes == 10 })
        #expect(server.request("gated")?.chunksSent == 1)
        #expect(!delegate.isComplete)

        server.releaseGate("gated")
        #expect(await eventually { delegate.isComplete })
        let result = delegate.snapshot
        #expect(result.error == nil)
        #expect(result.completions.count == 1)
        #expect(result.body == (0..<5).flatMap { Array(repeating: chunkByte($0), count: 10) })
        #expect(result.events == [.head, .body, .complete])
        #expect(result.status == 200)
    }

    @Test func sendsMethodHeadersAndBody() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }

        // 2 MiB with NUL bytes: big enough that libcurl would add "Expect: 100-continue".
        let body = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let post = CurlRequest(
            url: server.url("/echo?id=post"), method: "POST",
            headers: [("X-Trace", "abc 123"), ("Content-Type", "application/json"), ("X-Empty", "")], body: body)
        let echoed = RecordingDelegate()
        loop.start(post, delegate: echoed)
        let delete = RecordingDelegate()
        loop.start(CurlRequest(url: server.url("/fixed?id=delete&status=204"), method: "DELETE"), delegate: delete)
        #expect(await eventually { echoed.isComplete && delete.isComplete })

        let served = try #require(server.request("post"))
        #expect(served.method == "POST")
        #expect(served.body == body)
        #expect(served.header("X-Trace") == "abc 123")
        #expect(served.header("Content-Type") == "application/json")
        #expect(served.header("X-Empty") == "")
        #expect(served.header("Content-Length") == "\(body.count)")
        #expect(served.header("Expect") == nil)
        #expect(served.header("Accept-Encoding") == nil)
        #expect(echoed.snapshot.error == nil)
        #expect(echoed.snapshot.body == body)

        #expect(server.request("delete")?.method == "DELETE")
        #expect(delete.snapshot.status == 204)
        #expect(delete.snapshot.error == nil)
    }

    @Test func reportsTheFinalStatusAndHeadersOnce() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let delegate = RecordingDelegate()

        // The server sends "100 Continue" and "103 Early Hints" heads before the final 404.
        loop.start(CurlRequest(url: server.url("/fixed?id=head&status=404&body=nope&interim=1")), delegate: delegate)
        #expect(await eventually { delegate.isComplete })
        let result = delegate.snapshot
        #expect(result.events == [.head, .body, .complete])
        #expect(result.status == 404)
        #expect(result.header("x-test") == ["fixed"])
        #expect(result.header("X-Multi") == ["a", "b"])
        #expect(result.header("Link").isEmpty)
        #expect(result.body == Array("nope".utf8))
        #expect(result.error == nil)
    }

    @Test func reusesKeptAliveConnections() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }

        for id in ["first", "second", "third"] {
            let delegate = RecordingDelegate()
            loop.start(CurlRequest(url: server.url("/stream?id=\(id)&chunks=2")), delegate: delegate)
            #expect(await eventually { delegate.isComplete })
            #expect(delegate.snapshot.error == nil)
        }
        #expect(server.connectionsAccepted == 1)
        #expect(server.request("first")?.connection == server.request("third")?.connection)
    }
}

extension CurlMultiLoopTests {
    @Test func passObserversRunOnTheLoopThreadAfterTheCallbacks() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let runs = Mutex<(count: Int, offThread: Int)>((0, 0))
        loop.afterEachPass { [weak loop] in
            let onLoop = loop?.isCurrentThread ?? false
            runs.withLock { $0 = ($0.count + 1, $0.offThread + (onLoop ? 0 : 1)) }
        }
        #expect(!loop.isCurrentThread)
        let response = try await loop.perform(CurlRequest(url: server.url("/stream?id=observed&chunks=3&size=10")))
        #expect(response.body.count == 30)
        let seen = runs.withLock { $0 }
        #expect(seen.count > 0)
        #expect(seen.offThread == 0)
    }
}
