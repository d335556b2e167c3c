import CRabbitMQ
import Glibc
import Logging
import Synchronization

/// The connection thread: connects, serves a session until it ends, waits, reconnects, and on
/// stop lets unconfirmed publishes settle before closing.
final class ConnectionLoop: @unchecked Sendable {
    // @unchecked: the `var`s below are touched only on the connection thread (`run` and what it
    // calls). Other threads reach the loop through `inbox`, `status` and `threadID`.

    let configuration: AMQPConnectionConfiguration
    let topology: AMQPTopology
    let logger: Logger
    let inbox: ConnectionInbox
    let status: Mutex<AMQPConnectionStatus>
    let threadID = Atomic<UInt>(0)
    weak var connection: AMQPConnection?

    var delegate: (any AMQPConnectionDelegate)?
    var session: AMQPSession?
    private var nextSessionID: UInt64 = 1
    private var backoff: ReconnectBackoff
    private var timers: [(at: ContinuousClock.Instant, action: @Sendable () -> Void)] = []
    /// Stopped on purpose (shutdown): not started again on the next session.
    private var cancelledConsumers: Set<String> = []
    private let topologyConsumerTags: Set<String>
    private var failedAttempts = 0

    init(configuration: AMQPConnectionConfiguration, topology: AMQPTopology, logger: Logger) throws(AMQPError) {
        self.configuration = configuration
        self.topology = topology
        self.logger = logger
        inbox = try ConnectionInbox(maxPublishBytes: configuration.maxQueuedPublishBytes)
        status = Mutex(AMQPConnectionStatus(state: .connecting, since: .now))
        backoff = ReconnectBackoff(base: configuration.reconnectBackoff, maximum: configuration.reconnectBackoffMax)
        topologyConsumerTags = Set(topology.consumers.map(\.tag))
    }

    var isOnThread: Bool {
        let id = threadID.load(ordering: .acquiring)
        return id != 0 && id == ConnectionThread.currentID()
    }

    // MARK: - The loop

    func run() {
        threadID.store(ConnectionThread.currentID(), ordering: .releasing)
        while inbox.stopDeadline == nil {
            setState(.connecting)
            let opened: AMQPSession
            do {
                opened = try AMQPSession.open(
                    id: nextSessionID, configuration: configuration, topology: topology, skipConsumers: cancelledConsumers)
            } catch {
                attemptFailed(error)
                continue
            }
            nextSessionID += 1
            session = opened
            sessionOpened(opened)
            let error = serve(opened)
            sessionEnded(opened, error: error)
        }
        for command in inbox.close() { settleWithoutSession(command, error: AMQPError(.shutdown, "the connection is stopped")) }
        runDueTimers(all: true)
        delegate = nil
        setState(.stopped)
        threadID.store(0, ordering: .releasing)
    }

    private func attemptFailed(_ error: AMQPError) {
        failedAttempts += 1
        let delay = backoff.nextDelay()
        // The first failure and then every tenth: a broker down for an hour should not flood the log.
        if failedAttempts == 1 || failedAttempts % 10 == 0 {
            logger.warning(
                "cannot reach the broker, retrying",
                metadata: ["amqp.url": "\(configuration.url)", "error": "\(error)", "attempts": "\(failedAttempts)", "retry.in": "\(delay)"])
        }
        setState(.disconnected, error: error)
        idle(for: delay)
    }

    private func sessionOpened(_ opened: AMQPSession) {
        failedAttempts = 0
        backoff.reset()
        status.withLock { status in
            status = AMQPConnectionStatus(state: .connected, since: .now, lastError: status.lastError, sessionsOpened: status.sessionsOpened + 1)
        }
        logger.info(
            "connected to the broker",
            metadata: ["amqp.url": "\(configuration.url)", "amqp.session": "\(opened.id)", "amqp.heartbeat_s": "\(opened.heartbeatSeconds)"])
        if let connection { delegate?.amqpConnection(connection, didOpenSession: opened.id) }
    }

    private func sessionEnded(_ ended: AMQPSession, error: AMQPError?) {
        let reason = error ?? AMQPError(.shutdown, "the connection was stopped")
        if error == nil { ended.close() } else { ended.abandon() }
        session = nil
        if let error {
            logger.warning("lost the broker connection", metadata: ["amqp.session": "\(ended.id)", "error": "\(error)"])
        }
        let wasBlocked = status.withLock { $0.blocked }
        setState(.disconnected, error: error)
        if wasBlocked, let connection { delegate?.amqpConnection(connection, didChangeBlocked: false) }
        // The delegate hears first, so it can write off that session's work before the failed
        // publishes report in (a prompt back in the queue needs no failure handling).
        if let connection { delegate?.amqpConnection(connection, didCloseSession: ended.id, error: reason) }
        for (callback, outcome) in ended.confirms.failAll(reason) { callback(outcome) }
        if inbox.stopDeadline == nil { idle(for: backoff.nextDelay()) }
    }

    /// Serves one session until it breaks (returns the error) or a stop has let every publish settle (nil).
    private func serve(_ session: AMQPSession) -> AMQPError? {
        var socketReadable = true
        var lastRead = ContinuousClock.now
        let checkEvery = session.heartbeatSeconds > 0 ? Duration.milliseconds(session.heartbeatSeconds * 250) : .seconds(5)
        // Publishes held while the broker blocks this connection: sending them would park the
        // thread in `send` (no heartbeats, acks or stop). They still count against the inbox's
        // byte bound until sent.
        var held: [ConnectionCommand] = []
        while true {
            var batch = session.blocked ? [] : held
            if !session.blocked { held = [] }
            batch += inbox.take()
            if let error = apply(batch, on: session, holding: &held) {
                for command in held { settleWithoutSession(command, error: error) }
                return error
            }
            // Checked after the inbox: acks queued before the stop still go out.
            if let deadline = inbox.stopDeadline, (session.confirms.isEmpty && held.isEmpty) || ContinuousClock.now >= deadline {
                for command in held { settleWithoutSession(command, error: AMQPError(.shutdown, "the connection stopped")) }
                return nil
            }
            runDueTimers(all: false)
            if socketReadable || session.hasBufferedInput || ContinuousClock.now - lastRead >= checkEvery {
                lastRead = .now
                if let error = readAvailableFrames(session) {
                    for command in held { settleWithoutSession(command, error: error) }
                    return error
                }
                amqp_maybe_release_buffers(session.state)
            }
            var wait = session.hasBufferedInput ? Duration.zero : checkEvery
            if let next = timers.map(\.at).min() { wait = min(wait, max(.zero, next - .now)) }
            if inbox.stopDeadline != nil { wait = min(wait, .milliseconds(20)) }
            socketReadable = poll(socket: session.socketDescriptor, for: wait)
        }
    }

    /// Applies a batch in order. Publishes wait in `held` while the broker blocks us; between
    /// publishes the socket is looked at now and then, so a block is noticed before the socket's
    /// buffer fills. On a session-ending error the rest of the batch is settled here (its
    /// callbacks fail, its bytes are released, its timers kept) and the error returned.
    private func apply(_ batch: [ConnectionCommand], on session: AMQPSession, holding held: inout [ConnectionCommand]) -> AMQPError? {
        var sinceLook = 0
        for (index, command) in batch.enumerated() {
            var failure: AMQPError?
            if case .publish = command {
                if session.blocked {
                    held.append(command)
                    continue
                }
                failure = apply(command, on: session)
                sinceLook += 1
                if failure == nil, sinceLook >= 32 {
                    sinceLook = 0
                    failure = readAvailableFrames(session)
                }
            } else {
                failure = apply(command, on: session)
            }
            if let failure {
                for rest in batch[(index + 1)...] { settleWithoutSession(rest, error: failure) }
                return failure
            }
        }
        return nil
    }

    /// Handles up to a batch of frames, so queued commands are not starved by a busy socket.
    private func readAvailableFrames(_ session: AMQPSession) -> AMQPError? {
        for _ in 0..<512 {
            switch session.readFrame() {
            case .none: return nil
            case .failed(let error): return error
            case .frame(let frame):
                switch session.handle(frame) {
                case .nothing: break
                case .delivery(let delivery):
                    if let connection { delegate?.amqpConnection(connection, didReceive: delivery) }
                case .settled(let settled):
                    for (callback, outcome) in settled { callback(outcome) }
                case .blocked(let blocked):
                    status.withLock { $0.blocked = blocked }
                    logger.warning(blocked ? "the broker blocked publishing (resource alarm)" : "the broker unblocked publishing")
                    if let connection { delegate?.amqpConnection(connection, didChangeBlocked: blocked) }
                case .consumerGone(let tag):
                    logger.info("the broker cancelled a consumer (its queue was deleted)", metadata: ["amqp.consumer": "\(tag)"])
                case .ended(let error):
                    return error
                }
            }
        }
        return nil
    }

    private func apply(_ command: ConnectionCommand, on session: AMQPSession) -> AMQPError? {
        switch command {
        case .publish(let message, let callback):
            defer { inbox.released(message) }
            return session.publish(message, callback: callback)
        case .ack(let tag):
            return tag.session == session.id ? session.ack(tag.value) : nil
        case .reject(let tag, let requeue):
            return tag.session == session.id ? session.reject(tag.value, requeue: requeue) : nil
        case .cancelConsumer(let tag):
            if topologyConsumerTags.contains(tag) { cancelledConsumers.insert(tag) }
            return session.cancelConsumer(tag)
        case .consume(let consumer, let declaration, let callback):
            let error = session.startConsumer(consumer, declaring: declaration)
            callback(error)
            return error.flatMap { $0.code == .channelClosed || $0.code == .declareFailed ? nil : $0 }
        case .deleteQueue(let name):
            return session.deleteQueue(name)
        case .timer(let at, let action):
            timers.append((at, action))
            return nil
        }
    }

    /// Between sessions there is no broker: publishes fail at once, acks are moot (the broker
    /// requeued those deliveries), timers still run.
    private func settleWithoutSession(_ command: ConnectionCommand, error: AMQPError) {
        switch command {
        case .publish(let message, let callback):
            inbox.released(message)
            callback(.failed(error))
        case .ack, .reject: break
        case .cancelConsumer(let tag): if topologyConsumerTags.contains(tag) { cancelledConsumers.insert(tag) }
        case .consume(_, _, let callback): callback(error)
        case .deleteQueue: break
        case .timer(let at, let action): timers.append((at, action))
        }
    }

    /// Waits `duration` (or until a stop) while no session is up, serving the inbox.
    private func idle(for duration: Duration) {
        let until = ContinuousClock.now + duration
        while inbox.stopDeadline == nil {
            for command in inbox.take() {
                settleWithoutSession(command, error: AMQPError(.notConnected, "not connected to the broker"))
            }
            runDueTimers(all: false)
            let now = ContinuousClock.now
            guard now < until else { return }
            var wait = until - now
            if let next = timers.map(\.at).min() { wait = min(wait, max(.zero, next - now)) }
            _ = poll(socket: -1, for: wait)
        }
    }

    private func runDueTimers(all: Bool) {
        guard !timers.isEmpty else { return }
        let now = ContinuousClock.now
        let due = timers.filter { all || $0.at <= now }
        guard !due.isEmpty else { return }
        timers.removeAll { all || $0.at <= now }
        for timer in due { timer.action() }
    }

    /// Polls the socket (when given) and the wake-up eventfd; true when the socket is readable.
    private func poll(socket: Int32, for wait: Duration) -> Bool {
        var descriptors = [pollfd(fd: inbox.wake.descriptor, events: Int16(POLLIN), revents: 0)]
        if socket >= 0 { descriptors.append(pollfd(fd: socket, events: Int16(POLLIN), revents: 0)) }
        let milliseconds = Int32(clamping: (wait.components.seconds * 1000) + (wait.components.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        let ready = Glibc.poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        guard ready > 0 else { return false }
        if descriptors[0].revents != 0 { inbox.wake.reset() }
        return descriptors.count > 1 && descriptors[1].revents != 0
    }

    private func setState(_ state: AMQPConnectionStatus.State, error: AMQPError? = nil) {
        status.withLock { status in
            if status.state != state { status.since = .now }
            status.state = state
            if let error { status.lastError = error }
            if state != .connected { status.blocked = false }
        }
    }
}
