import BridgeCore
import Curl
import Dispatch
import Synchronization

/// Keeps `streams` streams in flight through the bridge, each started by `POST
/// /v1/chat/completions` and read on every egress asked for at once. A slot's stream goes:
/// subscribe its channel subscribers and consume its response queue (the uid is chosen here, so
/// this can happen before the stream exists), then POST, then wait until every reader has ended
/// it; then the slot's next stream starts.
///
/// Readers report from their own threads (the curl loop, the WebSocket fleet, the AMQP
/// connections); nothing here calls one of them while holding the lock, since some answer at once
/// on the calling thread.
final class EgressLoad: StreamProbeOwner {
    /// What a stream waits for before it ends: its readers, and for a submit (no SSE reader) the
    /// request's answer, without which no reader can tell whether tokens were lost.
    enum Reader: Hashable, Sendable {
        case sse
        case ws(Int)
        case amqp
        case submit

        var egress: Egress? {
            switch self {
            case .sse: .sse
            case .ws: .ws
            case .amqp: .amqp
            case .submit: nil
            }
        }
    }

    /// One stream in flight.
    private struct Stream {
        let slot: Int
        var setupPending: Int
        var pending: Set<Reader>
        /// Uptime nanoseconds when the request went out: what the readers' first tokens count from.
        var postedAt: UInt64?
        /// The bridge accepted the request (200, or 202 for a submit): its tokens can be lost now.
        var started = false
        var failure: String?
        var stalled = false
        /// What each reader saw, tallied once the last one ended (when `started` is known).
        var runs: [(Reader, ObservedRun)] = []
    }

    /// What the run loop reads ten times a second.
    struct Counters: Sendable {
        var started = 0
        var inFlight = 0
        /// Streams every reader saw through to `done` with nothing wrong.
        var completed = 0
        var failed = 0
        var stalled = 0
        var stopped = false
        /// A refusal that every later stream would get too (a 4xx: a sink the bridge lacks...).
        var fatal: String?
        var lastEnd: ContinuousClock.Instant?
        var egress: [Egress: EgressTally] = [:]
        var failures: [String: FailureSummary] = [:]
    }

    private struct State {
        var counters = Counters()
        var streams: [String: Stream] = [:]
        /// The stream each channel subscriber is on (by fleet index).
        var probeStreams: [String?]
        var retiredSlots: Set<Int> = []
        /// Time to first token for every egress; per-token latency for the SSE (the fleet and
        /// the queue observer keep their own).
        var histograms: [Egress: EgressHistograms] = [:]
    }

    let options: EgressBenchOptions
    let loop: CurlMultiLoop
    let fleet: WebSocketFleet?
    let queues: ResponseQueueObserver?
    private let state: Mutex<State>
    private let sseTokens = Atomic<Int>(0)
    private let drainExpired = Atomic<Bool>(false)
    /// Makes this run's uids and prompts its own.
    private let runTag = StreamID.generateEpoch()

    init(options: EgressBenchOptions, fleet: WebSocketFleet?, queues: ResponseQueueObserver?) throws {
        self.options = options
        self.fleet = fleet
        self.queues = queues
        loop = try CurlMultiLoop(name: "bench-egress")
        state = Mutex(State(probeStreams: Array(repeating: nil, count: options.subscriberCount)))
    }

    // MARK: - StreamProbeOwner (the SSE reader)

    var expectedTokens: Int { options.tokens }
    var idleTimeout: Duration { options.idleTimeout }
    var stampsTokens: Bool { true }
    var isDrainExpired: Bool { drainExpired.load(ordering: .sequentiallyConsistent) }

    func countTokens(_ count: Int) {
        sseTokens.add(count, ordering: .relaxed)
    }

    func streamEnded(_ outcome: StreamOutcome, probe: StreamProbe) {
        guard let uid = probe.uid else { return }
        let accepted = outcome.status == 200
        requestAnswered(uid, accepted: accepted, status: outcome.status, failure: outcome.failure)
        let extra = outcome.extraTokens(expected: options.tokens)
        var run = ObservedRun(
            tokens: outcome.deltas - extra, duplicated: extra, outOfOrder: outcome.outOfOrder,
            timeToFirstToken: outcome.timeToFirstToken, failure: outcome.failure)
        run.tokenLatencies = outcome.tokenLatencies
        readerEnded(uid, .sse, run)
    }

    // MARK: - The run loop's side

    func begin() {
        for slot in 0..<options.streams { startNext(slot: slot) }
    }

    func stopStarting() {
        state.withLock { $0.counters.stopped = true }
    }

    var counters: Counters { state.withLock { $0.counters } }

    /// Text tokens delivered so far on `egress`.
    func tokensDelivered(_ egress: Egress) -> Int {
        switch egress {
        case .sse: sseTokens.load(ordering: .relaxed)
        case .ws: fleet?.tokens.load(ordering: .relaxed) ?? 0
        case .amqp: queues?.tokens.load(ordering: .relaxed) ?? 0
        }
    }

    /// The histograms, once the readers stopped (the fleet's and the queues' folded in).
    func histograms() -> [Egress: EgressHistograms] {
        var all = state.withLock { $0.histograms }
        if let fleet { all[.ws, default: EgressHistograms()].tokenLatency.merge(fleet.latency) }
        if let queues { all[.amqp, default: EgressHistograms()].tokenLatency.merge(queues.latency) }
        return all
    }

    /// Gives up on everything still in flight: its readers end it as stalled.
    func abortRemaining() {
        drainExpired.store(true, ordering: .sequentiallyConsistent)
        loop.shutdown()
        let reason = "stalled: still in flight when the drain time ran out"
        let pending = state.withLock { state -> [(String, Set<Reader>)] in
            // A stream still getting ready is never sent: no SSE to read, no answer to wait for.
            for (uid, stream) in state.streams where stream.postedAt == nil {
                state.streams[uid]?.pending.subtract([.sse, .submit])
            }
            return state.streams.map { ($0.key, $0.value.pending) }
        }
        for (uid, readers) in pending { abandon(uid, readers, reason: reason) }
    }

    // MARK: - A stream's course

    private func startNext(slot: Int) {
        if let uid = state.withLock({ reserve(slot: slot, in: &$0) }) { launch(uid, slot: slot) }
    }

    /// Counts a new stream on `slot` in flight, if the slot may start one; its readers come next.
    /// Done under the same lock as the end of the slot's previous stream, so that the run never
    /// sees nothing in flight between the two.
    private func reserve(slot: Int, in state: inout State) -> String? {
        guard mayStart(slot: slot, state.counters, retired: state.retiredSlots) else { return nil }
        state.counters.started += 1
        state.counters.inFlight += 1
        let uid = "bench-\(runTag)-\(state.counters.started)"
        var readers: Set<Reader> = [options.egresses.contains(.sse) ? .sse : .submit]
        if options.egresses.contains(.amqp) { readers.insert(.amqp) }
        for index in subscriberIndices(slot: slot) {
            readers.insert(.ws(index))
            state.probeStreams[index] = uid
        }
        // Everyone but the SSE reader (or the submit) must be ready before the request goes out.
        state.streams[uid] = Stream(slot: slot, setupPending: readers.count - 1, pending: readers)
        return uid
    }

    private func launch(_ uid: String, slot: Int) {
        if let fleet {
            for index in subscriberIndices(slot: slot) { fleet.subscribe(index, to: "stream_\(uid)") }
        }
        queues?.watch(uid: uid, slot: slot)
        if fleet == nil, queues == nil { post(uid) }
    }

    private func mayStart(slot: Int, _ counters: Counters, retired: Set<Int>) -> Bool {
        guard !counters.stopped, !retired.contains(slot) else { return false }
        if case .rounds(let rounds) = options.length { return counters.started < rounds * options.streams }
        return true
    }

    private func subscriberIndices(slot: Int) -> Range<Int> {
        guard options.egresses.contains(.ws) else { return 0..<0 }
        return slot * options.subscribersPerStream..<(slot + 1) * options.subscribersPerStream
    }

    /// A reader is ready (subscribed, consuming): the last one to be sends the request.
    private func setupDone(_ uid: String) {
        let send = state.withLock { state -> Bool in
            guard var stream = state.streams[uid] else { return false }
            stream.setupPending -= 1
            state.streams[uid] = stream
            return stream.setupPending == 0 && stream.failure == nil
        }
        if send { post(uid) }
    }

    /// A reader could not get ready: the stream is not sent, its other readers are let go.
    private func setupFailed(_ uid: String, _ reader: Reader, reason: String, connectionLost: Bool) {
        let others = state.withLock { state -> Set<Reader> in
            guard var stream = state.streams[uid] else { return [] }
            if stream.failure == nil { stream.failure = "\(reader.egress?.rawValue ?? "request"): \(reason)" }
            // A stream that is not sent has no SSE to read and no answer to wait for.
            stream.pending.subtract([.sse, .submit])
            state.streams[uid] = stream
            return stream.pending.subtracting([reader])
        }
        readerEnded(uid, reader, ObservedRun(failure: reason, connectionLost: connectionLost))
        abandon(uid, others, reason: "not sent: another reader could not get ready")
    }

    private func post(_ uid: String) {
        guard !isDrainExpired else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { $0.streams[uid]?.postedAt = now }
        let request = CurlRequest(
            url: BenchRequest.completionsURL(base: options.url), method: "POST", headers: BenchRequest.streamingHeaders,
            body: requestBody(uid: uid), connectTimeout: .seconds(10),
            totalTimeout: options.egresses.contains(.sse) ? nil : options.idleTimeout)
        guard options.egresses.contains(.sse) else {
            // An asynchronous submit: 202 at once, the answer only on the other egresses.
            Task { [self] in
                do {
                    let response = try await loop.perform(request, maxBodyBytes: 64 << 10)
                    let failure = response.status == 202 ? nil : "HTTP \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))"
                    requestAnswered(uid, accepted: failure == nil, status: response.status, failure: failure)
                } catch {
                    requestAnswered(uid, accepted: false, status: nil, failure: "\(error)")
                }
                readerEnded(uid, .submit, ObservedRun())
            }
            return
        }
        let id = loop.start(request, delegate: StreamProbe(owner: self, startedAt: .now, uid: uid))
        loop.setDeadline(id, .now + options.idleTimeout, reason: "no response")
    }

    /// The request's answer: a refused one lets the stream's other readers go.
    private func requestAnswered(_ uid: String, accepted: Bool, status: Int?, failure: String?) {
        let others = state.withLock { state -> Set<Reader> in
            guard var stream = state.streams[uid] else { return [] }
            stream.started = accepted
            if !accepted, stream.failure == nil { stream.failure = failure ?? "the request failed" }
            state.streams[uid] = stream
            // The same request would be refused again: a missing sink, a bad field, a key.
            if let status, (400..<500).contains(status), status != 408, status != 429 {
                state.counters.fatal = state.counters.fatal ?? failure
                state.counters.stopped = true
            }
            return accepted ? [] : stream.pending.subtracting([.sse, .submit])
        }
        abandon(uid, others, reason: "not started: the request failed")
    }

    private func abandon(_ uid: String, _ readers: Set<Reader>, reason: String) {
        for reader in readers {
            switch reader {
            case .sse, .submit: break  // the transfer ends by itself (or with the loop's shutdown)
            case .ws(let index): fleet?.abandon(index, reason: reason)
            case .amqp: queues?.abandon(uid: uid, reason: reason)
            }
        }
    }

    /// A reader is done with its stream; the last one ends the stream and starts the slot's next.
    private func readerEnded(_ uid: String, _ reader: Reader, _ run: ObservedRun) {
        let next = state.withLock { state -> (String, Int)? in
            guard var stream = state.streams[uid], stream.pending.remove(reader) != nil else { return nil }
            if reader != .submit { stream.runs.append((reader, run)) }
            if let failure = run.failure, let egress = reader.egress {
                if stream.failure == nil { stream.failure = "\(egress): \(failure)" }
                if failure.hasPrefix("stalled") { stream.stalled = true }
            }
            if run.connectionLost { state.retiredSlots.insert(stream.slot) }
            if case .ws(let index) = reader { state.probeStreams[index] = nil }
            guard stream.pending.isEmpty else {
                state.streams[uid] = stream
                return nil
            }
            state.streams[uid] = nil
            for (reader, run) in stream.runs { tally(run, of: reader, in: stream, into: &state) }
            state.counters.inFlight -= 1
            state.counters.lastEnd = .now
            if stream.failure == nil {
                state.counters.completed += 1
            } else {
                state.counters.failed += 1
                if stream.stalled { state.counters.stalled += 1 }
            }
            return reserve(slot: stream.slot, in: &state).map { ($0, stream.slot) }
        }
        if let (next, slot) = next { launch(next, slot: slot) }
    }

    private func tally(_ run: ObservedRun, of reader: Reader, in stream: Stream, into state: inout State) {
        guard let egress = reader.egress else { return }
        state.counters.egress[egress, default: EgressTally()].record(run, expectedTokens: options.tokens, streamStarted: stream.started)
        // Through the subscript with a default: changed in place, the buffers never copied.
        if let ttft = run.timeToFirstToken {
            state.histograms[egress, default: EgressHistograms()].timeToFirstToken.record(ttft)
        } else if let first = run.firstTokenAt, let posted = stream.postedAt {
            state.histograms[egress, default: EgressHistograms()].timeToFirstToken.record(Int64(clamping: (first - min(first, posted)) / 1000))
        }
        for latency in run.tokenLatencies { state.histograms[egress, default: EgressHistograms()].tokenLatency.record(Int64(latency)) }
        // A reader let go because another failed only echoes that failure.
        if let failure = run.failure, !failure.hasPrefix("not sent"), !failure.hasPrefix("not started") {
            let key = "\(egress): " + String(failure.prefix { $0 != "\n" }.prefix(300))
            state.counters.failures[key, default: FailureSummary(message: key, count: 0, example: nil)].count += 1
        }
    }

    // MARK: - Reports from the channel subscribers and the response queues

    func channelReport(_ index: Int, _ report: WebSocketFleet.Report) {
        guard let uid = state.withLock({ $0.probeStreams.indices.contains(index) ? $0.probeStreams[index] : nil }) else { return }
        switch report {
        case .connected: break
        case .subscribed: setupDone(uid)
        case .refused(let reason, let connectionLost): setupFailed(uid, .ws(index), reason: reason, connectionLost: connectionLost)
        case .ended(let run): readerEnded(uid, .ws(index), run)
        }
    }

    func queueReport(_ uid: String, _ report: ResponseQueueObserver.Report) {
        switch report {
        case .ready: setupDone(uid)
        case .refused(let reason): setupFailed(uid, .amqp, reason: reason, connectionLost: false)
        case .ended(let run): readerEnded(uid, .amqp, run)
        }
    }

    // MARK: - The request

    /// The simulated model stamps each token and paces it; the sinks name every egress but the SSE.
    private func requestBody(uid: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 320)
        writer.beginObject()
        writer.key("model")
        writer.string(options.model)
        writer.key("uid")
        writer.string(uid)
        writer.key("stream")
        writer.bool(true)
        if !options.egresses.contains(.sse) {
            writer.key("async")
            writer.bool(true)
        }
        writer.key("max_tokens")
        writer.int(options.tokens)
        writer.key("sinks")
        writer.beginArray()
        for sink in options.ordered.compactMap(\.sink) { writer.string(sink) }
        writer.endArray()
        writer.key("mock")
        writer.beginObject()
        writer.key("stamp")
        writer.bool(true)
        writer.key("tokens")
        writer.int(options.tokens)
        writer.key("rate")
        writer.double(options.rate)
        writer.endObject()
        writer.userMessages("bench \(uid): tell me about rivers")
        writer.endObject()
        return writer.bytes
    }
}
