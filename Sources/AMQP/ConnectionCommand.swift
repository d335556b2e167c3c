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
final class ConnectionInbox: Sendable {
    private struct State {
        var commands: [ConnectionCommand] = []
        var stopDeadline: ContinuousClock.Instant?
        var closed = false
    }

    private let state = Mutex(State())
    private let wakeRequested = Atomic<Bool>(false)
    let wake: WakeupEvent

    init() throws(AMQPError) {
        wake = try WakeupEvent()
    }

    /// False once the connection has stopped for good: the caller settles the command itself.
    func post(_ command: ConnectionCommand) -> Bool {
        let accepted = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.commands.append(command)
            return true
        }
        if accepted, !wakeRequested.exchange(true, ordering: .acquiringAndReleasing) { wake.signal() }
        return accepted
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
