import BridgeCore
import Curl
import Synchronization

/// Keeps `streams` streaming chat requests in flight on one `CurlMultiLoop`: a new one starts as
/// soon as one ends, until the run stops starting.
final class LoadGenerator: StreamProbeOwner {
    let options: BenchOptions
    let loop: CurlMultiLoop
    private let tally = Mutex(BenchTally())
    /// Content deltas received so far, over all streams: read for the rates while streams run.
    private let tokens = Atomic<Int>(0)
    private let drainExpired = Atomic<Bool>(false)
    /// Distinguishes this run's prompts from any earlier run's, so no cache can answer them.
    private let runTag = String(UInt64.random(in: 0...UInt64.max), radix: 36)

    init(options: BenchOptions) throws {
        self.options = options
        loop = try CurlMultiLoop(name: "bench-curl")
    }

    /// Starts the first `streams` requests.
    func begin() {
        for _ in 0..<options.streams { startNext() }
    }

    /// No new stream starts after this; in-flight ones run to their end.
    func stopStarting() {
        tally.withLock { $0.stopped = true }
    }

    /// Aborts whatever is still in flight; those streams are reported as stalled.
    func abortRemaining() {
        drainExpired.store(true, ordering: .sequentiallyConsistent)
        loop.shutdown()
    }

    var isDrainExpired: Bool { drainExpired.load(ordering: .sequentiallyConsistent) }

    var tokensReceived: Int { tokens.load(ordering: .relaxed) }

    /// The counters without the histograms: taken ten times a second, it must not share their
    /// buffers (a copy held while the loop thread records would make that record copy them all).
    func snapshot() -> BenchTally {
        tally.withLock { tally in
            var copy = tally
            copy.timeToFirstToken = HdrHistogram()
            copy.tokenLatencies = HdrHistogram()
            return copy
        }
    }

    /// Everything, samples included; for the report once the streams ended.
    func finalTally() -> BenchTally {
        tally.withLock { $0 }
    }

    func countTokens(_ count: Int) {
        tokens.add(count, ordering: .relaxed)
    }

    var expectedTokens: Int { options.tokens }
    var idleTimeout: Duration { options.idleTimeout }
    var stampsTokens: Bool { options.stampsTokens }

    /// Called on the loop thread when a transfer ends; starts its replacement.
    func streamEnded(_ outcome: StreamOutcome, probe: StreamProbe) {
        let startsAnother = tally.withLock { tally -> Bool in
            tally.record(outcome, expectedTokens: options.tokens, at: .now)
            return tally.mayStart(options)
        }
        if startsAnother { startNext() }
    }

    // MARK: - Starting

    private func startNext() {
        let number = tally.withLock { tally -> Int? in
            guard tally.mayStart(options) else { return nil }
            tally.started += 1
            tally.inFlight += 1
            return tally.started
        }
        guard let number else { return }
        let request = CurlRequest(
            url: options.completionsURL, method: "POST",
            headers: BenchRequest.streamingHeaders,
            body: requestBody(number: number), connectTimeout: .seconds(10))
        let probe = StreamProbe(owner: self, startedAt: .now)
        let id = loop.start(request, delegate: probe)
        // Covers the wait for the first byte; each body chunk then pushes it forward.
        loop.setDeadline(id, .now + options.idleTimeout, reason: "no response")
    }

    /// A unique prompt per stream, as distinct users would send.
    private func requestBody(number: Int) -> [UInt8] {
        var writer = JSONWriter(capacity: 192)
        writer.beginObject()
        writer.key("model")
        writer.string(options.model)
        writer.key("stream")
        writer.bool(true)
        writer.key("max_tokens")
        writer.int(options.tokens)
        if options.stampsTokens {
            writer.key("mock")
            writer.raw(Array(#"{"stamp":true}"#.utf8))
        }
        writer.userMessages("bench \(runTag) stream \(number): tell me about rivers")
        writer.endObject()
        return writer.bytes
    }
}
