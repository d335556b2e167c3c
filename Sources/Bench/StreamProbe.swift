import BridgeCore
import Curl
import Dispatch
import OpenAIWire
import Synchronization

/// What a `StreamProbe` reads its settings from and reports to: the load that started its stream.
protocol StreamProbeOwner: AnyObject, Sendable {
    var loop: CurlMultiLoop { get }
    /// Content deltas a complete stream carries.
    var expectedTokens: Int { get }
    var idleTimeout: Duration { get }
    var stampsTokens: Bool { get }
    /// The run aborted what was left (a `.shutdown` error then means "stalled").
    var isDrainExpired: Bool { get }
    func countTokens(_ count: Int)
    /// On the loop thread, once the transfer ended.
    func streamEnded(_ outcome: StreamOutcome, probe: StreamProbe)
}

/// One benchmark stream: the transfer's delegate, decoding the SSE body as any OpenAI client would
/// and noting when each content delta arrives.
final class StreamProbe: CurlTransferDelegate {
    private struct State {
        var sse = SSEDecoder()
        // Think-tag splitting would hold back leading content and merge deltas: count them raw.
        var chunks = ChatChunkDecoder(splitsThinkTags: false)
        var outcome = StreamOutcome()
        /// The start of an error body, kept for the failure message.
        var errorBody: [UInt8] = []
    }

    /// Error bodies are reported, not stored: this much is enough to say what went wrong.
    private static let errorBodyLimit = 300

    private let owner: any StreamProbeOwner
    private let startedAt: ContinuousClock.Instant
    /// The stream id the request asked for, when it asked for one.
    let uid: String?
    // Only the loop thread touches the state once the transfer started; the lock is uncontended
    // and keeps the class honestly Sendable.
    private let state = Mutex(State())

    init(owner: any StreamProbeOwner, startedAt: ContinuousClock.Instant, uid: String? = nil) {
        self.owner = owner
        self.startedAt = startedAt
        self.uid = uid
    }

    func curlTransfer(_ id: CurlTransferID, didReceiveHead status: Int, headers: [(name: String, value: String)]) {
        let streamID = headers.first { $0.name.lowercased() == "x-stream-id" }?.value
        state.withLock { state in
            state.outcome.status = status
            state.outcome.streamID = streamID
        }
    }

    func curlTransfer(_ id: CurlTransferID, didReceive body: UnsafeRawBufferPointer) {
        let now = ContinuousClock.now
        let (newDeltas, broken) = state.withLock { state -> (Int, Bool) in
            guard state.outcome.failure == nil else { return (0, true) }
            state.outcome.bodyBytes += body.count
            state.outcome.lastByteAt = now
            guard state.outcome.status == 200 else {
                let room = Self.errorBodyLimit - state.errorBody.count
                state.errorBody.append(contentsOf: body.prefix(max(0, room)))
                return (0, false)
            }
            return Self.decode(body, into: &state, at: now, since: startedAt, stamping: owner.stampsTokens)
        }
        if broken {
            owner.loop.cancel(id)
            return
        }
        if newDeltas > 0 { owner.countTokens(newDeltas) }
        owner.loop.setDeadline(id, now + owner.idleTimeout, reason: "idle")
    }

    func curlTransfer(_ id: CurlTransferID, didCompleteWith error: CurlError?) {
        let end = ContinuousClock.now
        let outcome = state.withLock { state -> StreamOutcome in
            var outcome = state.outcome
            outcome.elapsed = end - startedAt
            if outcome.failure == nil {
                outcome.failure = Self.failure(
                    of: outcome, error: error, errorBody: state.errorBody, owner: owner)
                outcome.stalled = owner.isDrainExpired && error?.kind == .shutdown
            }
            if outcome.failure != nil {
                var parts: [String] = []
                if let error, !outcome.stalled { parts.append(error.message) }
                // A stream that broke after a 200 head: how far it got tells the bridge's bugs apart.
                if outcome.status == 200 { parts.append(outcome.diagnosis(at: end)) }
                outcome.detail = parts.isEmpty ? nil : parts.joined(separator: "; ")
            }
            return outcome
        }
        owner.streamEnded(outcome, probe: self)
    }

    /// Why the stream counts as failed (nil when it does not). Short and stable, so that failures
    /// group by cause; specifics (curl's text, stream id, progress) go to the outcome's `detail`.
    private static func failure(
        of outcome: StreamOutcome, error: CurlError?, errorBody: [UInt8], owner: any StreamProbeOwner
    ) -> String? {
        if let error {
            // The run aborts what is left when the drain time runs out (a loop shutdown).
            if owner.isDrainExpired && error.kind == .shutdown {
                return "stalled: still in flight when the drain time ran out"
            }
            return "\(error.kind)" + (error.curlCode.map { " (curl code \($0))" } ?? "")
        }
        guard let status = outcome.status else { return "no response head" }
        if status != 200 { return "HTTP \(status): \(String(decoding: errorBody, as: UTF8.self))" }
        if outcome.isIncomplete(expected: owner.expectedTokens) {
            return "incomplete: the response ended without [DONE] or with the wrong number of deltas"
        }
        return nil
    }

    /// Feeds body bytes through both decoders; returns the content deltas they held and whether
    /// the stream broke (the failure is then recorded in the outcome).
    private static func decode(
        _ body: UnsafeRawBufferPointer, into state: inout State, at now: ContinuousClock.Instant,
        since start: ContinuousClock.Instant, stamping: Bool
    ) -> (Int, Bool) {
        var deltas = 0
        let arrived = stamping ? DispatchTime.now().uptimeNanoseconds : 0
        do {
            for message in try state.sse.feed(body) {
                for output in try state.chunks.decode(message) {
                    guard case .text(let text) = output else { continue }
                    deltas += 1
                    if stamping { note(stamp: text, arrivedAt: arrived, in: &state.outcome) }
                }
            }
        } catch {
            state.outcome.failure = "\(error)"
        }
        if deltas > 0, state.outcome.timeToFirstToken == nil {
            state.outcome.timeToFirstToken = now - start
        }
        state.outcome.deltas += deltas
        state.outcome.sawDone = state.chunks.isDone
        state.outcome.sawFinishReason = state.chunks.sawFinishReason
        return (deltas, state.outcome.failure != nil)
    }

    /// A stamped token is `<send time in uptime nanoseconds>`: its delivery latency and order.
    private static func note(stamp text: String, arrivedAt now: UInt64, in outcome: inout StreamOutcome) {
        guard text.hasPrefix("<"), text.hasSuffix(">"), let sent = UInt64(text.dropFirst().dropLast()) else {
            if outcome.failure == nil { outcome.failure = "a token without a stamp: is the model the simulated one?" }
            return
        }
        if sent < outcome.lastStamp { outcome.outOfOrder += 1 }
        outcome.lastStamp = max(outcome.lastStamp, sent)
        outcome.tokenLatencies.append(UInt32(clamping: now >= sent ? (now - sent) / 1000 : 0))
    }
}
