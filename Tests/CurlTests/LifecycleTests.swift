import Curl
import Glibc
import Testing

extension CurlMultiLoopTests {
    @Test func refusedConnectionIsCouldNotConnect() async throws {
        let refusing = try refusingPort()
        defer { close(refusing.fd) }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let delegate = RecordingDelegate()

        loop.start(CurlRequest(url: "http://127.0.0.1:\(refusing.port)/"), delegate: delegate)
        #expect(await eventually { delegate.isComplete })
        let error = try #require(delegate.snapshot.error)
        #expect(error.kind == .couldNotConnect)
        #expect(error.curlCode == 7)
        // The message carries libcurl's error buffer, which names the port.
        #expect(error.message.contains("\(refusing.port)"))
        #expect(delegate.snapshot.events == [.complete])
    }

    @Test func shutdownCompletesEverythingWithShutdown() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop(name: "curl-shutdown")
        let streams = (0..<3).map { _ in RecordingDelegate() }
        for (index, delegate) in streams.enumerated() {
            loop.start(CurlRequest(url: server.url("/forever?id=s\(index)&interval=5")), delegate: delegate)
        }
        let delayed = RecordingDelegate()
        loop.start(CurlRequest(url: server.url("/fixed?id=delayed")), delegate: delayed, notBefore: .now + .seconds(60))
        #expect(await eventually { streams.allSatisfy { $0.snapshot.bodyCalls > 0 } })
        #expect(loop.activeTransfers == 4)

        loop.shutdown()
        // shutdown joined the thread: every delegate has been told, exactly once.
        for delegate in streams + [delayed] {
            #expect(delegate.snapshot.completions.count == 1)
            #expect(delegate.snapshot.error?.kind == .shutdown)
        }
        #expect(loop.activeTransfers == 0)
        for index in 0..<3 {
            #expect(await eventually { server.request("s\(index)")?.clientClosedEarly == true })
        }

        // After shutdown a start completes at once, and shutdown stays harmless.
        let late = RecordingDelegate()
        loop.start(CurlRequest(url: server.url("/fixed?id=late")), delegate: late)
        #expect(late.snapshot.error?.kind == .shutdown)
        loop.shutdown()
        loop.cancel(CurlTransferID(rawValue: 1))
        #expect(server.request("late") == nil)
    }

    @Test func performReturnsTheWholeResponse() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }

        let response = try await loop.perform(CurlRequest(url: server.url("/fixed?id=p1&status=201&body=hello")))
        #expect(response.status == 201)
        #expect(response.body == Array("hello".utf8))
        #expect(response.header("x-test") == "fixed")

        let streamed = try await loop.perform(CurlRequest(url: server.url("/stream?id=p2&chunks=3&size=5")))
        #expect(streamed.body.count == 15)

        do {
            let endless = CurlRequest(url: server.url("/forever?id=p3&size=10&interval=1"))
            _ = try await loop.perform(endless, maxBodyBytes: 100)
            Issue.record("a body over the cap must fail")
        } catch {
            #expect(error.kind == .transport)
            #expect(error.message.contains("larger than 100"))
        }
        #expect(await eventually { server.request("p3")?.clientClosedEarly == true })

        let refusing = try refusingPort()
        defer { close(refusing.fd) }
        do {
            _ = try await loop.perform(CurlRequest(url: "http://127.0.0.1:\(refusing.port)/"))
            Issue.record("nothing listens there")
        } catch {
            #expect(error.kind == .couldNotConnect)
        }
    }

    @Test func shutdownFromADelegateCallbackDoesNotDeadlock() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let delegate = RecordingDelegate { _, _ in loop.shutdown() }
        let other = RecordingDelegate()

        loop.start(CurlRequest(url: server.url("/silent?id=bystander")), delegate: other)
        #expect(await eventually { server.request("bystander") != nil })
        loop.start(CurlRequest(url: server.url("/forever?id=inner&interval=5")), delegate: delegate)
        #expect(await eventually { delegate.isComplete && other.isComplete })
        #expect(delegate.snapshot.error?.kind == .shutdown)
        #expect(delegate.snapshot.bodyCalls == 1)
        #expect(other.snapshot.error?.kind == .shutdown)
        #expect(await eventually { loop.activeTransfers == 0 })
    }

    @Test func shutdownFromABodyCallbackStopsTheRestOfThatRead() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        // The first body call holds the loop thread until the server has sent every chunk, so the
        // rest are waiting in the socket when it asks for the stop: libcurl would read and hand
        // them out in this same pass.
        let delegate = RecordingDelegate { _, calls in
            guard calls == 1 else { return }
            let deadline = ContinuousClock.now + .seconds(30)
            while server.request("burst")?.chunksSent ?? 0 < 4, ContinuousClock.now < deadline { usleep(1000) }
            loop.shutdown()
        }
        loop.start(CurlRequest(url: server.url("/stream?id=burst&chunks=4&size=5&interval=1")), delegate: delegate)
        #expect(await eventually { delegate.isComplete })
        #expect(server.request("burst")?.chunksSent == 4)
        #expect(delegate.snapshot.bodyCalls == 1)
        #expect(delegate.snapshot.error?.kind == .shutdown)
        #expect(delegate.snapshot.completions.count == 1)
    }

    @Test func cancellingThePerformingTaskCancelsTheTransfer() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }

        let task = Task { () async throws(CurlError) -> CurlResponse in
            try await loop.perform(CurlRequest(url: server.url("/silent?id=task")))
        }
        #expect(await eventually { server.request("task") != nil })
        task.cancel()
        let result = await task.result
        #expect(throws: CurlError.self) { try result.get() }
        if case .failure(let error) = result {
            #expect((error as? CurlError)?.kind == .cancelled)
        }
        #expect(await eventually { server.request("task")?.clientClosedEarly == true })
    }
}
