/// Hears what happens on a connection. Every call comes on the connection's own thread, one at a
/// time; a call must not block (it holds up heartbeats and every other delivery).
public protocol AMQPConnectionDelegate: AnyObject, Sendable {
    /// A session is up: the topology is declared and the consumers are started.
    func amqpConnection(_ connection: AMQPConnection, didOpenSession session: UInt64)
    /// The session ended. The broker requeued its unacked deliveries and acks for them are dropped;
    /// its unconfirmed publishes were failed. A new session follows unless the connection is stopping.
    func amqpConnection(_ connection: AMQPConnection, didCloseSession session: UInt64, error: AMQPError)
    func amqpConnection(_ connection: AMQPConnection, didReceive delivery: AMQPDelivery)
    /// The broker stopped (true) or resumed (false) reading what this connection publishes, for a
    /// memory or disk alarm. A session that ends is no longer blocked.
    func amqpConnection(_ connection: AMQPConnection, didChangeBlocked blocked: Bool)
}

extension AMQPConnectionDelegate {
    public func amqpConnection(_ connection: AMQPConnection, didChangeBlocked blocked: Bool) {}
}

/// Where a connection stands, for `/health` and logs.
public struct AMQPConnectionStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        case connecting
        case connected
        case disconnected
        case stopped
    }

    public var state: State
    public var since: ContinuousClock.Instant
    /// Why the last session ended or the last attempt failed.
    public var lastError: AMQPError?
    /// Sessions opened so far: more than one means the connection was re-established.
    public var sessionsOpened: Int
    /// The broker is not reading what we publish (a resource alarm).
    public var blocked: Bool

    public init(state: State, since: ContinuousClock.Instant, lastError: AMQPError? = nil, sessionsOpened: Int = 0, blocked: Bool = false) {
        self.state = state
        self.since = since
        self.lastError = lastError
        self.sessionsOpened = sessionsOpened
        self.blocked = blocked
    }
}
