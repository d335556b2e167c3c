/// How to reach the broker and how to behave when it goes away.
public struct AMQPConnectionConfiguration: Sendable {
    public var url: AMQPURL
    public var tls: AMQPTLSConfiguration
    /// Heartbeat interval proposed to the broker; the broker may lower it. Zero turns heartbeats off.
    public var heartbeat: Duration
    /// TCP connect plus TLS and AMQP handshakes, and any single broker round trip (declare, qos...).
    public var connectTimeout: Duration
    /// First wait before reconnecting; doubles per failed attempt up to `reconnectBackoffMax`, with jitter.
    public var reconnectBackoff: Duration
    public var reconnectBackoffMax: Duration
    /// Shown by the broker's management UI and `rabbitmqctl list_connections client_properties`.
    public var connectionName: String
    /// Publishes waiting for the connection thread, in bytes; beyond it a publish fails at once.
    public var maxQueuedPublishBytes: Int

    public init(
        url: AMQPURL, tls: AMQPTLSConfiguration = AMQPTLSConfiguration(), heartbeat: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(10), reconnectBackoff: Duration = .milliseconds(500),
        reconnectBackoffMax: Duration = .seconds(30), connectionName: String = "tokenbridge",
        maxQueuedPublishBytes: Int = 64 << 20
    ) {
        self.url = url
        self.tls = tls
        self.heartbeat = heartbeat
        self.connectTimeout = connectTimeout
        self.reconnectBackoff = reconnectBackoff
        self.reconnectBackoffMax = reconnectBackoffMax
        self.connectionName = connectionName
        self.maxQueuedPublishBytes = maxQueuedPublishBytes
    }
}

/// TLS settings for `amqps://` URLs.
public struct AMQPTLSConfiguration: Sendable, Equatable {
    /// PEM file of the certificate authorities that may sign the broker's certificate; empty uses
    /// the system's store.
    public var caFile: String
    /// Client certificate and key (PEM) for brokers that require one; both or neither.
    public var certFile: String
    public var keyFile: String
    /// Check the broker's certificate chain. Off only for tests against a self-signed broker.
    public var verifyPeer: Bool
    /// Check that the certificate names the host of the URL.
    public var verifyHostname: Bool

    public init(
        caFile: String = "", certFile: String = "", keyFile: String = "", verifyPeer: Bool = true,
        verifyHostname: Bool = true
    ) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.verifyPeer = verifyPeer
        self.verifyHostname = verifyHostname
    }
}
