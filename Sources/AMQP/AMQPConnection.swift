import Dispatch
import Logging
import Synchronization

/// One connection to a RabbitMQ broker, owned by one thread, that reconnects by itself.
///
/// rabbitmq-c is not thread-safe: every call into it happens on the connection's thread. Other
/// threads queue work (`publish`, `ack`...) and wake it through an eventfd. Every session
/// (re)declares `topology` and starts its consumers; deliveries, session changes and publish
/// outcomes arrive on the connection thread.
public final class AMQPConnection: Sendable {
    private let loop: ConnectionLoop
    private let thread = Mutex<ConnectionThread?>(nil)
    /// Signalled when the connection thread returns, so a stop can wait for it with a bound.
    private let exited = DispatchSemaphore(value: 0)

    public init(configuration: AMQPConnectionConfiguration, topology: AMQPTopology, logger: Logger) throws(AMQPError) {
        loop = try ConnectionLoop(configuration: configuration, topology: topology, logger: logger)
        loop.connection = self
    }

    deinit {
        shutdown(timeout: .zero)
    }

    /// Starts connecting in the background. The delegate is held until the connection stops.
    public func start(delegate: any AMQPConnectionDelegate, threadName: String = "amqp") throws(AMQPError) {
        loop.delegate = delegate
        let loop = self.loop
        let exited = self.exited
        let started = try ConnectionThread.start(name: threadName) {
            loop.run()
            exited.signal()
        }
        thread.withLock { $0 = started }
    }

    /// Publishes on the next chance. `onOutcome` runs later, never on the calling thread: on the
    /// connection thread, or on a task when the connection has stopped. Between sessions it fails
    /// with `.notConnected`.
    /// When more than `maxQueuedPublishBytes` wait for the connection thread (the broker stopped
    /// reading), it fails with `.backlogFull`.
    ///
    /// - Returns: whether the message was queued. When not, the caller knows at once (the outcome
    ///   still follows), so it can stop publishing the rest of a sequence before a gap opens.
    @discardableResult
    public func publish(_ message: AMQPOutgoingMessage, onOutcome: @escaping @Sendable (AMQPPublishOutcome) -> Void) -> Bool {
        switch loop.inbox.post(.publish(message, onOutcome)) {
        case .accepted:
            return true
        case .closed:
            Task { onOutcome(.failed(AMQPError(.shutdown, "the connection is stopped"))) }
            return false
        case .full:
            let limit = loop.configuration.maxQueuedPublishBytes
            Task { onOutcome(.failed(AMQPError(.backlogFull, "over \(limit) bytes wait to be published; the broker is not keeping up"))) }
            return false
        }
    }

    /// Acknowledges a delivery: the broker forgets it. Dropped when its session is gone.
    public func ack(_ tag: AMQPDeliveryTag) {
        loop.inbox.post(.ack(tag))
    }

    /// Refuses a delivery: back to the queue (`requeue`) or to the queue's dead-letter exchange, if
    /// it has one, else dropped by the broker.
    public func reject(_ tag: AMQPDeliveryTag, requeue: Bool) {
        loop.inbox.post(.reject(tag, requeue: requeue))
    }

    /// Stops a consumer for good (also on later sessions). Deliveries already sent still arrive.
    public func cancelConsumer(tag: String) {
        loop.inbox.post(.cancelConsumer(tag))
    }

    /// Starts a consumer now, declaring its queue first when given; `completion` gets nil or why it
    /// failed, on the connection thread. Unlike the topology's consumers it is not started again
    /// on a later session.
    public func consume(
        _ consumer: AMQPConsumer, declaring queue: AMQPQueueDeclaration? = nil,
        completion: @escaping @Sendable (AMQPError?) -> Void
    ) {
        if loop.inbox.post(.consume(consumer, declaring: queue, completion)) != .accepted {
            Task { completion(AMQPError(.shutdown, "the connection is stopped")) }
        }
    }

    /// Deletes a queue (and its messages); a queue that does not exist is no error.
    public func deleteQueue(_ name: String) {
        loop.inbox.post(.deleteQueue(name))
    }

    /// Runs `action` on the connection thread after `delay` (timers of whoever publishes through
    /// it); on a task when the connection has stopped.
    public func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) {
        if loop.inbox.post(.timer(.now + delay, action)) != .accepted { Task { action() } }
    }

    public var status: AMQPConnectionStatus { loop.status.withLock { $0 } }

    /// True on the connection thread, where delegate calls and outcomes run.
    public var isOnConnectionThread: Bool { loop.isOnThread }

    /// Stops: publishes already sent get up to `timeout` to be confirmed, then the connection
    /// closes (the broker requeues unacked deliveries) and the thread is joined. Idempotent.
    ///
    /// Waits at most `timeout` plus the connect timeout (the close handshake) for the thread: a
    /// broker that stopped answering must not hold a shutdown forever; the thread is left to die
    /// with the process then.
    public func shutdown(timeout: Duration) {
        loop.inbox.requestStop(deadline: .now + timeout)
        guard let thread = thread.withLock({ $0.take() }) else { return }
        if loop.isOnThread {
            thread.detach()
            return
        }
        let bound = timeout + loop.configuration.connectTimeout + .seconds(1)
        let milliseconds = Int(bound.components.seconds * 1000 + bound.components.attoseconds / 1_000_000_000_000_000)
        if exited.wait(timeout: .now() + .milliseconds(milliseconds)) == .success {
            thread.join()
        } else {
            loop.logger.warning("the broker connection did not close in time; leaving it behind")
            thread.detach()
        }
    }
}
