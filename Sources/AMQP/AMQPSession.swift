import CRabbitMQ
import Glibc

/// One live connection to the broker: the rabbitmq-c state, its three channels, and what is in
/// flight on them. Lives and dies on the connection thread; a reconnect makes a new session.
final class AMQPSession {
    /// Deliveries and acks.
    static let consumeChannel: amqp_channel_t = 1
    /// Publishes, in confirm mode.
    static let publishChannel: amqp_channel_t = 2
    /// Declarations: a refused declare closes only this channel, never one with work in flight.
    static let declareChannel: amqp_channel_t = 3

    let id: UInt64
    let state: amqp_connection_state_t
    let socketDescriptor: Int32
    /// Negotiated with the broker; 0 = no heartbeats.
    let heartbeatSeconds: Int
    var confirms = PublishConfirms()
    var declaredQueues = RecentNames(capacity: 4096)
    /// Content (header and body frames) being assembled per channel after a deliver or return.
    var assembling: [amqp_channel_t: ContentAssembly] = [:]
    /// The broker stopped reading from us (a memory or disk alarm).
    var blocked = false
    /// Consumers whose cancellation by the broker ends the session (their queue must come back).
    var topologyConsumerTags: Set<String> = []
    private var closed = false

    private init(id: UInt64, state: amqp_connection_state_t, socketDescriptor: Int32, heartbeatSeconds: Int) {
        self.id = id
        self.state = state
        self.socketDescriptor = socketDescriptor
        self.heartbeatSeconds = heartbeatSeconds
    }

    deinit {
        if !closed { amqp_destroy_connection(state) }
    }

    // MARK: - Opening

    /// Connects, logs in, opens the channels and declares the topology; throws what went wrong.
    static func open(
        id: UInt64, configuration: AMQPConnectionConfiguration, topology: AMQPTopology, skipConsumers: Set<String>
    ) throws(AMQPError) -> AMQPSession {
        guard let state = amqp_new_connection() else { throw AMQPError(.setupFailed, "amqp_new_connection failed") }
        do {
            try connectSocket(state, configuration)
            try login(state, configuration)
        } catch {
            amqp_destroy_connection(state)
            throw error
        }
        let session = AMQPSession(
            id: id, state: state, socketDescriptor: amqp_get_sockfd(state), heartbeatSeconds: Int(amqp_get_heartbeat(state)))
        session.topologyConsumerTags = Set(topology.consumers.map(\.tag))
        // A peer that vanished without a FIN would otherwise hold a blocked send for the kernel's
        // retransmission timeout (15 minutes and more); unanswered data aborts the socket sooner.
        let heartbeat = max(session.heartbeatSeconds, 15)
        tb_amqp_set_tcp_user_timeout(session.socketDescriptor, UInt32(heartbeat * 2 * 1000))
        try session.openChannels()
        try session.declare(topology, skipConsumers: skipConsumers)
        return session
    }

    private static func connectSocket(_ state: amqp_connection_state_t, _ configuration: AMQPConnectionConfiguration) throws(AMQPError) {
        let url = configuration.url
        let socket: OpaquePointer?
        if url.usesTLS {
            socket = amqp_ssl_socket_new(state)
            guard let socket else { throw AMQPError(.setupFailed, "amqp_ssl_socket_new failed") }
            try TLSSetup.apply(configuration.tls, to: socket)
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else { throw AMQPError(.setupFailed, "amqp_tcp_socket_new failed") }
        var timeout = timeval(configuration.connectTimeout)
        let status = amqp_socket_open_noblock(socket, url.host, Int32(url.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectFailed, "connecting to \(url.host):\(url.port): \(RPCReply.statusText(status))")
        }
        _ = amqp_set_handshake_timeout(state, &timeout)
        _ = amqp_set_rpc_timeout(state, &timeout)
    }

    private static func login(_ state: amqp_connection_state_t, _ configuration: AMQPConnectionConfiguration) throws(AMQPError) {
        let url = configuration.url
        let heartbeat = Int32(clamping: configuration.heartbeat.components.seconds)
        let reply = CArena.with { arena -> amqp_rpc_reply_t in
            var properties = arena.table([
                "connection_name": .string(configuration.connectionName),
                "product": .string("tokenbridge"),
                // Asked for so the broker tells us instead of leaving us guessing: a consumer
                // cancelled because its queue went away, and publishing being blocked by an alarm.
                "capabilities": .table(["consumer_cancel_notify": .boolean(true), "connection.blocked": .boolean(true)]),
            ])
            return tb_amqp_login_plain(
                state, url.virtualHost, 0, Int32(AMQP_DEFAULT_FRAME_SIZE), heartbeat, &properties, url.user, url.password)
        }
        if let failure = RPCReply.error(reply, doing: "logging in to \(url)") {
            if failure.scope == .library, reply.library_error == AMQP_STATUS_SOCKET_CLOSED.rawValue
                || reply.library_error == AMQP_STATUS_CONNECTION_CLOSED.rawValue
            {
                // RabbitMQ closes the socket on a bad password (authentication_failure_close).
                throw AMQPError(.accessRefused, "the broker refused user '\(url.user)' on vhost '\(url.virtualHost)'")
            }
            var error = failure.asError
            if error.code == .connectionLost { error.code = .connectFailed }
            throw error
        }
    }

    private func openChannels() throws(AMQPError) {
        for channel in [Self.consumeChannel, Self.publishChannel, Self.declareChannel] {
            _ = amqp_channel_open(state, channel)
            try check("opening channel \(channel)")
        }
        _ = amqp_confirm_select(state, Self.publishChannel)
        try check("enabling publisher confirms")
    }

    /// Throws the last synchronous call's failure.
    func check(_ action: String) throws(AMQPError) {
        if let failure = RPCReply.error(amqp_get_rpc_reply(state), doing: action) { throw failure.asError }
    }

    // MARK: - Closing

    /// Closes politely (connection.close, waiting for close-ok up to the RPC timeout) and frees the state.
    func close() {
        guard !closed else { return }
        closed = true
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        amqp_destroy_connection(state)
    }

    /// Frees the state without talking to the broker (the socket is already broken).
    func abandon() {
        guard !closed else { return }
        closed = true
        amqp_destroy_connection(state)
    }
}

extension timeval {
    init(_ duration: Duration) {
        let components = duration.components
        self.init(tv_sec: Int(components.seconds), tv_usec: Int(components.attoseconds / 1_000_000_000_000))
    }
}
