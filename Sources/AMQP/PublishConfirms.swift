/// Publishes waiting for the broker's confirm, by publish sequence number (1, 2, 3... per channel
/// in confirm mode).
struct PublishConfirms {
    typealias Callback = @Sendable (AMQPPublishOutcome) -> Void

    private struct Pending {
        var messageID: String?
        var trackingID: String?
        var callback: Callback
        /// Set when the broker returned the message; its ack follows and then reports this.
        var returned: String?
    }

    private var pending: [UInt64: Pending] = [:]
    /// No pending sequence number is below this one.
    private var lowest: UInt64 = 1
    private(set) var nextSequence: UInt64 = 1

    var count: Int { pending.count }
    var isEmpty: Bool { pending.isEmpty }

    mutating func record(messageID: String?, trackingID: String? = nil, callback: @escaping Callback) {
        pending[nextSequence] = Pending(messageID: messageID, trackingID: trackingID, callback: callback)
        nextSequence += 1
    }

    /// A basic.return: remembered against the oldest pending publish it can be (returns come in
    /// publish order, each before its ack), matched by tracking id when the publish had one, else
    /// by message id.
    mutating func markReturned(messageID: String?, trackingID: String?, reason: String) {
        let match = pending.filter { _, entry in
            guard entry.returned == nil else { return false }
            if let tracked = entry.trackingID { return tracked == trackingID }
            return entry.messageID != nil && entry.messageID == messageID
        }.keys.min()
        if let match { pending[match]?.returned = reason }
    }

    /// basic.ack or basic.nack for `tag` (and every earlier one when `multiple`). Returns the
    /// callbacks to run with their outcomes, in sequence order; the caller runs them outside any lock.
    mutating func settle(tag: UInt64, multiple: Bool, acked: Bool) -> [(Callback, AMQPPublishOutcome)] {
        var settled: [(Callback, AMQPPublishOutcome)] = []
        let range = multiple ? lowest...max(lowest, tag) : tag...tag
        if multiple || tag == lowest {
            for sequence in range {
                if let entry = pending.removeValue(forKey: sequence) { settled.append((entry.callback, outcome(entry, acked))) }
            }
        } else if let entry = pending.removeValue(forKey: tag) {
            settled.append((entry.callback, outcome(entry, acked)))
        }
        while lowest < nextSequence, pending[lowest] == nil { lowest += 1 }
        return settled
    }

    /// Everything still pending, failed with `error` (the channel or connection is gone).
    mutating func failAll(_ error: AMQPError) -> [(Callback, AMQPPublishOutcome)] {
        let settled = pending.keys.sorted().compactMap { key in pending[key].map { ($0.callback, AMQPPublishOutcome.failed(error)) } }
        pending = [:]
        lowest = nextSequence
        return settled
    }

    private func outcome(_ entry: Pending, _ acked: Bool) -> AMQPPublishOutcome {
        if let returned = entry.returned { return .returned(returned) }
        return acked ? .confirmed : .rejected
    }
}
