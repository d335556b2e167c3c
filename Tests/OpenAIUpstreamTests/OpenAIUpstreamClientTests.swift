import BridgeCore
import Curl
import Logging
import OpenAIUpstream
import SimulatedModel
import Testing

@Suite("OpenAI-compatible upstream over a real loopback server")
struct OpenAIUpstreamClientTests {
    let logger = Logger(label: "upstream-test")

    private func client(_ url: String, tweak: (inout UpstreamConfiguration) -> Void = { _ in }) throws -> OpenAIUpstreamClient {
        var configuration = UpstreamConfiguration(url: url)
        tweak(&configuration)
        return OpenAIUpstreamClient(configuration: configuration, loop: try CurlMultiLoop(), logger: logger)
    }

    @Test func streamsTheWholeAnswerWithUsage() async throws {
        let server = try LoopbackModelServer()
        let upstream = try client(server.url)
        let receiver = CollectingReceiver()
        let call = request()
        _ = upstream.start(call, receiver: receiver)
        let (outputs, failure) = await receiver.finished()
        #expect(failure == nil)
        let expected = SimulatedModel(configuration: .init(tokens: 20, tokensPerSecond: 0)).plan(for: call.body, model: "sim")
        #expect(receiver.text == expected.text)
        #expect(outputs.contains(.finishReason("stop")))
        #expect(outputs.contains { if case .usage(let usage) = $0 { usage.completionTokens == 20 } else { false } })
    }

    @Test func silenceBeforeTheFirstTokenTimesOut() async throws {
        let server = try LoopbackModelServer()
        let upstream = try client(server.url) {
            $0.firstTokenTimeout = .milliseconds(300)
            $0.retries = 0
        }
        let receiver = CollectingReceiver()
        let clock = ContinuousClock()
        let started = clock.now
        _ = upstream.start(request(["mock": ["delay_ms": 5000]]), receiver: receiver)
        let (outputs, failure) = await receiver.finished()
        #expect(failure?.code == .upstreamTimeout)
        #expect(outputs.isEmpty)
        #expect(clock.now - started >= .milliseconds(300))
    }

    @Test func unreachableServerIsRetriedThenReported() async throws {
        let server = try LoopbackModelServer()
        let closedURL = "http://127.0.0.1:\(server.port)/v1"
        server.server.stop(flushTimeout: .zero)
        let upstream = try client(closedURL) {
            $0.retries = 2
            $0.retryBackoff = .milliseconds(100)
        }
        let receiver = CollectingReceiver()
        let clock = ContinuousClock()
        let started = clock.now
        _ = upstream.start(request(), receiver: receiver)
        let (_, failure) = await receiver.finished()
        #expect(failure?.code == .upstreamUnavailable)
        // Two backoffs of at least half their nominal 100 ms and 200 ms (jitter keeps the upper half).
        #expect(clock.now - started >= .milliseconds(150))
    }

    @Test func errorAfterTokensEndsTheStreamWithoutRetry() async throws {
        let server = try LoopbackModelServer()
        let upstream = try client(server.url) { $0.retries = 2 }
        let receiver = CollectingReceiver()
        _ = upstream.start(request(["mock": ["fail_after": 5]]), receiver: receiver)
        let (outputs, failure) = await receiver.finished()
        #expect(failure?.code == .upstreamError)
        #expect(failure?.message.contains("fail_after") == true)
        #expect(outputs.filter { if case .text = $0 { true } else { false } }.count == 5)
        #expect(server.pipeline.activeCount == 0)
    }

    @Test func nonSuccessStatusCarriesStatusAndMessage() async throws {
        let server = try LoopbackModelServer()
        let upstream = try client(server.url + "/nowhere") { $0.retries = 2 }
        let receiver = CollectingReceiver()
        _ = upstream.start(request(), receiver: receiver)
        let (_, failure) = await receiver.finished()
        #expect(failure?.code == .upstreamError)
        #expect(failure?.upstreamStatus == 404)
        #expect(failure?.message.contains("Unknown route") == true)
    }

    @Test func cancelAbortsTheServersStream() async throws {
        let server = try LoopbackModelServer()
        let upstream = try client(server.url)
        let receiver = CollectingReceiver()
        let call = upstream.start(request(["mock": ["rate": 20, "tokens": 1000]]), receiver: receiver)
        try await waitUntil { !receiver.text.isEmpty && server.pipeline.activeCount == 1 }
        call.cancel()
        // The model server notices the closed connection and ends its own stream.
        try await waitUntil { server.pipeline.activeCount == 0 }
    }

    @Test func probeReportsReachability() async throws {
        let server = try LoopbackModelServer()
        let upstream = try client(server.url)
        // Awaited rather than asked once: the server answers from the shared task pool, which the
        // rest of the suite running in parallel can hold past the probe's 5 s limit on 2 cores.
        var reachable = false
        let deadline = ContinuousClock.now + .seconds(120)
        while !reachable, ContinuousClock.now < deadline { reachable = await upstream.probe() == nil }
        #expect(reachable)
        #expect(try await upstream.models().get().contains("tokenbridge-simulated"))
        server.server.stop(flushTimeout: .zero)
        #expect(await upstream.probe() != nil)
    }
}

/// Polls a condition until it holds or `timeout` passes (then the test fails).
func waitUntil(timeout: Duration = .seconds(60), _ condition: () -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while !condition() {
        guard clock.now < deadline else {
            Issue.record("condition not met within \(timeout)")
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
