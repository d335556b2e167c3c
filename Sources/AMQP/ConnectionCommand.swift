import Synchronization

/// Work other threads hand to the connection thread.
enum ConnectionCommand: Sendable {
    case publish(AMQPOutgoingMessage, PublishConfirms.Callback)
    case ack(AMQPDeliveryTag)
    case reject(AMQPDeliveryTag, requeue: Bool)
    case cancelConsumer(String)
    case consume(AMQPConsumer, declaring: AMQPQueueDeclaration?, @Sendable (AMQPError?) -> Void)
    case deleteQueue(String)
    case timer(ContinuousClock.Instant, @Sendable () -> Void)
}

/// The locked mailbox of the connection thread, with one wake-up per batch: a producer posting a
/// token while the thread is already awake does not write the eventfd again.
///
/// Publishes waiting here are bounded in bytes: a broker that stops reading (a resource alarm, a
/// slow network) blocks the connection thread in `send`, and producers must not fill memory meanwhile.
final class ConnectionInbox: Sendable {
    enum Posted {
        case accepted
        /// The connection has stopped for good: the caller settles the command itself.
        case closed
        /// Too many publish bytes wait already.
        case full
    }

    private struct State {
        var commands: [ConnectionCommand] = []
        var publishBytes = 0
        var stopDeadline: ContinuousClock.Instant?
        var closed = false
    }

    private let state = Mutex(State())
    private let wakeRequested = Atomic<Bool>(false)
    private let maxPublishBytes: Int
    let wake: WakeupEvent

    init(maxPublishBytes: Int = .max) throws(AMQPError) {
        self.maxPublishBytes = maxPublishBytes
        wake = try WakeupEvent()
    }

    @discardableResult
    func post(_ command: ConnectionCommand) -> Posted {
        let posted = state.withLock { state -> Posted in
            guard !state.closed else { return .closed }
            if case .publish(let message, _) = command {
                let size = Self.footprint(of: message)
                // One message larger than the whole bound still goes when nothing else waits,
                // or it could never be sent at all.
                guard state.publishBytes + size <= maxPublishBytes || state.publishBytes == 0 else { return .full }
                state.publishBytes += size
            }
            state.commands.append(command)
            return .accepted
        }
        if posted == .accepted, !wakeRequested.exchange(true, ordering: .acquiringAndReleasing) { wake.signal() }
        return posted
    }

    func requestStop(deadline: ContinuousClock.Instant) {
        state.withLock { state in
            if state.stopDeadline == nil { state.stopDeadline = deadline }
        }
        wake.signal()
    }

    var stopDeadline: ContinuousClock.Instant? { state.withLock { $0.stopDeadline } }

    /// Everything posted so far; re-arms the wake-up first so nothing posted after is missed.
    func take() -> [ConnectionCommand] {
        wakeRequested.store(false, ordering: .releasing)
        return state.withLock { state in
            var taken: [ConnectionCommand] = []
            swap(&taken, &state.commands)
            return taken
        }
    }

    /// A taken publish was handed to the broker (or failed): its bytes no longer count.
    func released(_ message: AMQPOutgoingMessage) {
        let size = Self.footprint(of: message)
        state.withLock { $0.publishBytes = max(0, $0.publishBytes - size) }
    }

    /// What a queued publish holds in memory: its body plus its properties, strings and closure,
    /// which measured at a few hundred bytes for an answer token.
    static func footprint(of message: AMQPOutgoingMessage) -> Int {
        message.body.count + message.routingKey.utf8.count + 512
    }

    /// The final drain: later posts are refused.
    func close() -> [ConnectionCommand] {
        state.withLock { state in
            state.closed = true
            var taken: [ConnectionCommand] = []
            swap(&taken, &state.commands)
            return taken
        }
    }
}
