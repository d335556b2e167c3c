import AMQP
import BridgeCore
import Synchronization

/// Publishes one stream's events to its reply queue, one message per event (or merged text deltas
/// within `coalesceWindow`), and reports once the terminal event and everything before it was
/// confirmed by the broker: only then may the prompt be acked.
final class ResponseQueueSink: EventSink {
    /// The first publish that failed, and whether trying the whole answer again later may work.
    struct Failure: Sendable, Equatable {
        var reason: String
        /// The broker is behind (too much waits to be published), not refusing this answer.
        var retryable: Bool
    }

    enum Settlement: Sendable, Equatable {
        /// Every message, the terminal one included, is confirmed.
        case delivered
        /// Something could not be delivered; the first reason.
        case undeliverable(String)
    }

    let name = "rabbitmq"

    private struct Output {
        var encoder: ResponseMessageEncoder
        /// Merged text waiting for its window to close: `(text, first seq, last seq)`.
        var pending: (text: String, from: Int, to: Int)?
        var flushScheduled = false
    }

    private struct Outcomes {
        var outstanding = 0
        var terminalSeen = false
        var failure: String?
        var settled = false
    }

    private let connection: AMQPConnection
    private let coalesceWindow: Duration
    private let output: Mutex<Output>
    private let outcomes = Mutex(Outcomes())
    /// Set once a publish failed: later events are not sent (they could only arrive with a gap).
    private let failed = Atomic<Bool>(false)
    /// Set when the prompt went back to the queue: nothing more is sent, nothing is reported.
    private let silenced = Atomic<Bool>(false)
    private let onFailure: @Sendable (Failure) -> Void
    private let onSettled: @Sendable (Settlement) -> Void

    /// - Parameters:
    ///   - onFailure: the first failed publish, on the connection thread or a task; the stream is
    ///     worth stopping.
    ///   - onSettled: once, after the terminal event, on the connection thread or a task.
    init(
        connection: AMQPConnection, encoder: ResponseMessageEncoder, coalesceWindow: Duration,
        onFailure: @escaping @Sendable (Failure) -> Void, onSettled: @escaping @Sendable (Settlement) -> Void
    ) {
        self.connection = connection
        self.coalesceWindow = coalesceWindow
        output = Mutex(Output(encoder: encoder))
        self.onFailure = onFailure
        self.onSettled = onSettled
    }

    /// Stops all publishing and reporting: the prompt is back in the queue and will be answered
    /// again under a new epoch, so this run's remaining events must not reach the reader.
    func silence() {
        silenced.store(true, ordering: .releasing)
    }

    func deliver(_ event: StreamEvent) {
        guard !silenced.load(ordering: .acquiring) else { return }
        if failed.load(ordering: .acquiring) {
            if event.isTerminal { noteTerminal(published: false) }
            return
        }
        output.withLock { output in
            // Checked again under the lock: a publish refused just now stops the rest.
            if failed.load(ordering: .acquiring) {
                if event.isTerminal { noteTerminal(published: false) }
                return
            }
            if coalesceWindow > .zero, case .delta(let text) = event.kind {
                if var pending = output.pending {
                    pending.text += text
                    pending.to = event.seq
                    output.pending = pending
                } else {
                    output.pending = (text, event.seq, event.seq)
                }
                if !output.flushScheduled {
                    output.flushScheduled = true
                    connection.schedule(after: coalesceWindow) { [weak self] in self?.flushWindow() }
                }
                return
            }
            flush(&output)
            publish(output.encoder.message(for: event), terminal: event.isTerminal)
        }
    }

    // MARK: - Publishing

    private func flushWindow() {
        output.withLock { output in
            output.flushScheduled = false
            flush(&output)
        }
    }

    private func flush(_ output: inout Output) {
        guard let pending = output.pending else { return }
        output.pending = nil
        guard !silenced.load(ordering: .acquiring), !failed.load(ordering: .acquiring) else { return }
        publish(output.encoder.mergedDelta(text: pending.text, from: pending.from, to: pending.to), terminal: false)
    }

    /// Called with the output lock held, so messages enter the connection's queue in seq order.
    private func publish(_ message: AMQPOutgoingMessage, terminal: Bool) {
        outcomes.withLock { outcomes in
            outcomes.outstanding += 1
            if terminal { outcomes.terminalSeen = true }
        }
        let queued = connection.publish(message) { [self] outcome in record(outcome) }
        // Refused at once (the broker is behind): nothing after it may go out, or the reader would
        // see an answer with a hole in it.
        if !queued { failed.store(true, ordering: .releasing) }
    }

    private func record(_ outcome: AMQPPublishOutcome) {
        guard !silenced.load(ordering: .acquiring) else { return }
        let failure: Failure?
        switch outcome {
        case .confirmed: failure = nil
        case .returned(let text): failure = Failure(reason: "the broker returned an answer message: \(text)", retryable: false)
        case .rejected: failure = Failure(reason: "the broker refused an answer message (nack)", retryable: false)
        case .failed(let error):
            failure = Failure(reason: "an answer message was not confirmed: \(error)", retryable: error.code == .backlogFull)
        }
        if failure != nil { failed.store(true, ordering: .releasing) }
        let (reportFailure, settlement) = outcomes.withLock { outcomes -> (Failure?, Settlement?) in
            outcomes.outstanding -= 1
            var report: Failure?
            if let failure, outcomes.failure == nil {
                outcomes.failure = failure.reason
                report = failure
            }
            return (report, settleIfDone(&outcomes))
        }
        if let reportFailure { onFailure(reportFailure) }
        if let settlement { onSettled(settlement) }
    }

    /// The terminal event came after a failure: nothing was published for it.
    private func noteTerminal(published: Bool) {
        let settlement = outcomes.withLock { outcomes -> Settlement? in
            outcomes.terminalSeen = true
            return settleIfDone(&outcomes)
        }
        if let settlement { onSettled(settlement) }
    }

    private func settleIfDone(_ outcomes: inout Outcomes) -> Settlement? {
        guard outcomes.terminalSeen, outcomes.outstanding == 0, !outcomes.settled else { return nil }
        outcomes.settled = true
        return outcomes.failure.map { .undeliverable($0) } ?? .delivered
    }
}
