import BridgeCore
import Synchronization

/// One stream's publications to Centrifugo: queued as the stream produces them (never blocking
/// it), sent by one sender after the coalescing window, a batch at a time and in order. Past its
/// bound, or once a batch failed for good, the sink gives up on the stream and drops the rest.
final class CentrifugoStreamSink: EventSink {
    let name = "centrifugo"
    private let uid: String
    private let channel: String
    private let publisher: CentrifugoPublisher
    /// The data for an event; nil skips it. The event schema unless told otherwise.
    private let dataFor: (@Sendable (StreamEvent) -> [UInt8]?)?

    private struct State {
        var epoch = ""
        var pending: [CentrifugoPublication] = []
        var sending = false
        var failed = false
        /// The failure was reported (once per stream, whichever of overflow and a failed batch came first).
        var reported = false
    }

    private let state = Mutex(State())

    init(uid: String, channel: String, publisher: CentrifugoPublisher, dataFor: (@Sendable (StreamEvent) -> [UInt8]?)? = nil) {
        self.uid = uid
        self.channel = channel
        self.publisher = publisher
        self.dataFor = dataFor
    }

    func deliver(_ event: StreamEvent) {
        let configuration = publisher.configuration
        var data: [UInt8]?
        if let dataFor {
            guard let shaped = dataFor(event) else {
                if case .start(let epoch, _) = event.kind { state.withLock { $0.epoch = epoch } }
                return
            }
            data = shaped
        }
        var overflow: Int?
        let startSender = state.withLock { state -> Bool in
            if case .start(let epoch, _) = event.kind { state.epoch = epoch }
            guard !state.failed else {
                publisher.droppedCount.add(1, ordering: .relaxed)
                return false
            }
            if configuration.mergeDeltas, dataFor == nil, let last = state.pending.last,
                let merged = last.merged(with: event, uid: uid, epoch: state.epoch)
            {
                state.pending[state.pending.count - 1] = merged
            } else if state.pending.count >= configuration.maxPendingEvents {
                state.failed = true
                overflow = state.pending.count + 1
                publisher.pendingCount.add(-state.pending.count, ordering: .relaxed)
                state.pending = []
                return false
            } else {
                var publication = CentrifugoPublication(event, epoch: state.epoch)
                if let data {
                    publication.data = data
                    publication.delta = nil
                }
                state.pending.append(publication)
                publisher.pendingCount.add(1, ordering: .relaxed)
            }
            guard !state.sending else { return false }
            state.sending = true
            return true
        }
        if let overflow, state.withLock({ state in
            defer { state.reported = true }
            return !state.reported
        }) {
            let reason = "more than \(configuration.maxPendingEvents) publications waiting (sinks.centrifugo.max_pending_events): Centrifugo is too slow or down"
            // Not from here: deliver runs under the stream's lock, and the failure may end the stream.
            let epoch = state.withLock { $0.epoch }
            Task { self.publisher.streamFailed(uid: self.uid, epoch: epoch, reason: reason, dropped: overflow) }
        }
        if startSender {
            publisher.sendingCount.add(1, ordering: .relaxed)
            Task { await self.send() }
        }
    }

    /// Sends what is queued until nothing is; the first batch waits out the coalescing window.
    private func send() async {
        defer { publisher.sendingCount.add(-1, ordering: .relaxed) }
        let configuration = publisher.configuration
        if configuration.coalesceWindow > .zero { try? await Task.sleep(for: configuration.coalesceWindow) }
        while true {
            let batch = state.withLock { state -> [CentrifugoPublication]? in
                guard !state.failed, !state.pending.isEmpty else {
                    state.sending = false
                    return nil
                }
                let batch = Array(state.pending.prefix(configuration.maxBatch))
                state.pending.removeFirst(batch.count)
                return batch
            }
            guard let batch else { return }
            let failure = await publisher.deliver(batch, channel: channel, uid: uid)
            publisher.pendingCount.add(-batch.count, ordering: .relaxed)
            if let failure {
                let (dropped, report, epoch) = state.withLock { state -> (Int, Bool, String) in
                    state.failed = true
                    state.sending = false
                    let count = state.pending.count
                    state.pending = []
                    defer { state.reported = true }
                    return (count, !state.reported, state.epoch)
                }
                publisher.pendingCount.add(-dropped, ordering: .relaxed)
                if report { publisher.streamFailed(uid: uid, epoch: epoch, reason: failure, dropped: batch.count + dropped) }
                return
            }
        }
    }
}
