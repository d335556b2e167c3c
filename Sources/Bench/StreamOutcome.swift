/// What one benchmark stream did, reported once when its transfer ends.
struct StreamOutcome: Sendable {
    /// The HTTP status of the response head; nil when no head arrived.
    var status: Int?
    /// Content deltas received (non-empty `delta.content` pieces).
    var deltas = 0
    /// Request start to the first content delta.
    var timeToFirstToken: Duration?
    /// Request start to the end of the transfer.
    var elapsed: Duration = .zero
    /// Whether `data: [DONE]` arrived.
    var sawDone = false
    /// Why the stream failed (transport, status, decoding, an error chunk); nil when it did not.
    var failure: String?
    /// Specifics of that failure for one stream: the server's text, the stream id, how far it got.
    var detail: String?
    /// Aborted by the run itself because it was still in flight when the drain time ran out.
    var stalled = false
    /// The server's `X-Stream-Id`, to find a broken stream in the bridge's logs.
    var streamID: String?
    /// Whether a chunk carried `finish_reason` (the answer was complete even without `[DONE]`).
    var sawFinishReason = false
    /// Model send time to arrival, per stamped token, in microseconds.
    var tokenLatencies: [UInt32] = []
    /// Stamped tokens that arrived before one sent earlier (must be zero).
    var outOfOrder = 0
    /// The last stamp seen, for the order check.
    var lastStamp: UInt64 = 0
    /// Body bytes received, and how long before the end the last of them arrived.
    var bodyBytes = 0
    var lastByteAt: ContinuousClock.Instant?

    /// What the stream had got when it broke: enough to tell "stuck before the end" from "stuck
    /// after the last token" and to find it on the server.
    func diagnosis(at end: ContinuousClock.Instant) -> String {
        let silence = lastByteAt.map { " (last byte \(BenchReport.ms(end - $0)) before the end)" } ?? ""
        return "x-stream-id \(streamID ?? "none"), \(deltas) deltas, \(bodyBytes) bytes\(silence), "
            + "finish_reason \(sawFinishReason ? "seen" : "not seen"), [DONE] \(sawDone ? "seen" : "not seen")"
    }

    /// Content deltas the stream should have carried and did not (an errored stream that got a
    /// 200 head counts too: tokens the model produced never reached the client).
    func lostTokens(expected: Int) -> Int {
        guard status == 200 else { return 0 }
        return max(0, expected - deltas)
    }

    /// Deltas beyond `max_tokens`: duplicates, or a server that ignored the cap.
    func extraTokens(expected: Int) -> Int {
        max(0, deltas - expected)
    }

    /// A 200 stream that did not end with `[DONE]` after exactly the expected deltas.
    func isIncomplete(expected: Int) -> Bool {
        status == 200 && (!sawDone || deltas != expected)
    }
}
