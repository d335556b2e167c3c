import Curl
import Testing

extension CurlMultiLoopTests {
    @Test func cancelFromAnotherThreadClosesTheConnection() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let delegate = RecordingDelegate()

        let id = loop.start(CurlRequest(url: server.url("/forever?id=cancel&interval=5&size=8")), delegate: delegate)
        #expect(await eventually { delegate.snapshot.bodyCalls >= 2 })
        loop.cancel(id)
        #expect(await eventually { delegate.isComplete })
        #expect(delegate.snapshot.error?.kind == .cancelled)
        // The server saw the client go away in the middle of its stream.
        #expect(await eventually { server.request("cancel")?.clientClosedEarly == true })
        #expect(delegate.snapshot.completions.count == 1)
        #expect(loop.activeTransfers == 0)
    }

    @Test func cancelFromTheDelegateStopsDeliveryAtOnce() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let delegate = RecordingDelegate { id, calls in
            if calls == 3 { loop.cancel(id) }
        }

        loop.start(CurlRequest(url: server.url("/forever?id=inside&interval=2&size=8")), delegate: delegate)
        #expect(await eventually { delegate.isComplete })
        let result = delegate.snapshot
        #expect(result.error?.kind == .cancelled)
        #expect(result.bodyCalls == 3)
        #expect(result.events == [.head, .body, .complete])
        #expect(await eventually { server.request("inside")?.clientClosedEarly == true })
    }

    @Test func deadlineAbortsASilentTransfer() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let delegate = RecordingDelegate()

        let started = ContinuousClock.now
        let id = loop.start(CurlRequest(url: server.url("/silent?id=deadline")), delegate: delegate)
        loop.setDeadline(id, started + .milliseconds(200), reason: "first token")
        #expect(await eventually { delegate.isComplete })
        let result = delegate.snapshot
        #expect(result.error?.kind == .deadlineExceeded(reason: "first token"))
        #expect(try #require(result.completedAt) - started >= .milliseconds(200))
        #expect(result.events == [.complete])
        #expect(await eventually { server.request("deadline")?.clientClosedEarly == true })
    }

    @Test func deadlinePushedOnEachChunkKeepsASteadyStreamAlive() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let window = Duration.milliseconds(600)
        // Ten chunks at least 100 ms apart: the stream lasts at least 900 ms, longer than the window.
        let pushed = RecordingDelegate { id, _ in
            loop.setDeadline(id, .now + window, reason: "idle")
        }
        let control = RecordingDelegate()

        let pushedID = loop.start(
            CurlRequest(url: server.url("/stream?id=pushed&chunks=10&size=4&interval=100")), delegate: pushed)
        let controlID = loop.start(
            CurlRequest(url: server.url("/stream?id=control&chunks=10&size=4&interval=100")), delegate: control)
        loop.setDeadline(pushedID, .now + window, reason: "idle")
        loop.setDeadline(controlID, .now + window, reason: "idle")
        #expect(await eventually { pushed.isComplete && control.isComplete })

        #expect(pushed.snapshot.error == nil)
        #expect(pushed.snapshot.bodyBytes == 40)
        // The same stream with a deadline that is not pushed dies: the deadline is real.
        #expect(control.snapshot.error?.kind == .deadlineExceeded(reason: "idle"))
        #expect(control.snapshot.bodyBytes < 40)
    }

    @Test func totalTimeoutIsReportedAsTimedOut() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let delegate = RecordingDelegate()

        let request = CurlRequest(url: server.url("/silent?id=timeout"), totalTimeout: .milliseconds(200))
        loop.start(request, delegate: delegate)
        #expect(await eventually { delegate.isComplete })
        let error = try #require(delegate.snapshot.error)
        #expect(error.kind == .timedOut)
        #expect(error.message.contains("after connecting"))
        #expect(error.curlCode == 28)
    }

    @Test func notBeforeDelaysTheStart() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let delayed = RecordingDelegate()
        let cancelled = RecordingDelegate()

        let started = ContinuousClock.now
        loop.start(
            CurlRequest(url: server.url("/fixed?id=later")), delegate: delayed, notBefore: started + .milliseconds(300))
        let waitingID = loop.start(
            CurlRequest(url: server.url("/fixed?id=never")), delegate: cancelled, notBefore: started + .seconds(60))
        #expect(loop.activeTransfers == 2)
        loop.cancel(waitingID)

        #expect(await eventually { delayed.isComplete && cancelled.isComplete })
        #expect(delayed.snapshot.error == nil)
        #expect(try #require(server.request("later")).receivedAt - started >= .milliseconds(300))
        #expect(cancelled.snapshot.error?.kind == .cancelled)
        #expect(server.request("never") == nil)
    }
}

extension CurlMultiLoopTests {
    /// The loop must not go back to sleep on a cancel it was woken for: a silent transfer has no
    /// socket activity to settle it later, and the loop's safety-net timeout is a second.
    @Test func cancellingASilentTransferCompletesItAtOnce() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop()
        defer { loop.shutdown() }
        let delegate = RecordingDelegate()
        let id = loop.start(CurlRequest(url: server.url("/stream?id=silent&chunks=5&size=10&gate=1")), delegate: delegate)
        #expect(await eventually { delegate.snapshot.bodyBytes == 10 })
        let cancelledAt = ContinuousClock.now
        loop.cancel(id)
        #expect(await eventually(timeout: .seconds(5)) { delegate.isComplete })
        let took = ContinuousClock.now - cancelledAt
        #expect(took < .milliseconds(300), "completed \(took) after the cancel")
        #expect(delegate.snapshot.error?.kind == .cancelled)
        server.releaseGate("silent")
    }
}
