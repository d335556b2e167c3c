import BridgeCore

/// One publication on its way to Centrifugo: a stream event (or merged deltas) as `data`, under
/// the idempotency key that makes a retried request harmless.
struct CentrifugoPublication: Sendable {
    var data: [UInt8]
    /// `<uid>:<epoch>:<seq>` (`<seq_from>-<seq_to>` for merged deltas): Centrifugo drops a second
    /// publish with the same key, so a retry of a request that did arrive adds nothing.
    var idempotencyKey: String
    /// Set for a text delta that later ones may still be merged into.
    var delta: (from: Int, to: Int, text: String)?
    var isTerminal: Bool

    init(_ event: StreamEvent, epoch: String) {
        data = event.jsonBytes()
        idempotencyKey = "\(event.uid):\(epoch):\(event.seq)"
        if case .delta(let text) = event.kind { delta = (event.seq, event.seq, text) }
        isTerminal = event.isTerminal
    }

    /// A merged publication stops growing here: each merge re-encodes it under the stream's lock.
    static let mergedTextLimit = 16 << 10

    /// This delta followed by the delta event `next` (seq right after), as one publication.
    func merged(with next: StreamEvent, uid: String, epoch: String) -> CentrifugoPublication? {
        guard let delta, case .delta(let text) = next.kind, next.seq == delta.to + 1,
            delta.text.utf8.count < Self.mergedTextLimit
        else { return nil }
        var merged = self
        merged.delta = (delta.from, next.seq, delta.text + text)
        merged.data = StreamEvent.mergedDeltaJSON(uid: uid, from: delta.from, to: next.seq, text: delta.text + text)
        merged.idempotencyKey = "\(uid):\(epoch):\(delta.from)-\(next.seq)"
        return merged
    }
}
