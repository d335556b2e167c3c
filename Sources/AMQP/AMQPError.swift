/// Why a broker operation or connection failed.
public struct AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// TCP connect, TLS handshake or AMQP handshake did not complete.
        public static let connectFailed = Code(rawValue: "connect_failed")
        /// The broker refused the user, password or virtual host.
        public static let accessRefused = Code(rawValue: "access_refused")
        /// The broker closed the connection (shutdown, forced close, a connection-level error).
        public static let connectionClosed = Code(rawValue: "connection_closed")
        /// The broker closed a channel (a refused declare, an unknown delivery tag...).
        public static let channelClosed = Code(rawValue: "channel_closed")
        /// The socket failed or the broker stopped answering heartbeats.
        public static let connectionLost = Code(rawValue: "connection_lost")
        /// The operation needs a connection and there is none right now.
        public static let notConnected = Code(rawValue: "not_connected")
        /// The broker answered in a way the protocol does not allow here.
        public static let protocolError = Code(rawValue: "protocol_error")
        /// A declaration (queue, exchange, binding, consumer) was refused.
        public static let declareFailed = Code(rawValue: "declare_failed")
        /// The connection is shutting down.
        public static let shutdown = Code(rawValue: "shutdown")
        /// Too much waits to be published: the broker is not reading fast enough.
        public static let backlogFull = Code(rawValue: "backlog_full")
        /// Local setup (socket, TLS files, memory) failed.
        public static let setupFailed = Code(rawValue: "setup_failed")
    }

    public var code: Code
    public var message: String
    /// The broker's reply code (404 NOT_FOUND, 406 PRECONDITION_FAILED, 320 CONNECTION_FORCED...) when it sent one.
    public var replyCode: Int?

    public init(_ code: Code, _ message: String, replyCode: Int? = nil) {
        self.code = code
        self.message = message
        self.replyCode = replyCode
    }

    public var description: String {
        if let replyCode { return "\(code): \(message) (reply code \(replyCode))" }
        return "\(code): \(message)"
    }
}
