import CRabbitMQ

/// Applies `AMQPTLSConfiguration` to a rabbitmq-c TLS socket before it connects.
enum TLSSetup {
    static func apply(_ tls: AMQPTLSConfiguration, to socket: OpaquePointer) throws(AMQPError) {
        amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
        amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
        if tls.caFile.isEmpty {
            // rabbitmq-c starts with an empty trust store; without this no certificate would verify.
            guard tb_amqp_ssl_use_system_trust_store(socket) == 1 else {
                throw AMQPError(.setupFailed, "could not load the system's CA certificates")
            }
        } else {
            let status = amqp_ssl_socket_set_cacert(socket, tls.caFile)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(.setupFailed, "reading CA file \(tls.caFile): \(RPCReply.statusText(status))")
            }
        }
        if !tls.certFile.isEmpty || !tls.keyFile.isEmpty {
            let status = amqp_ssl_socket_set_key(socket, tls.certFile, tls.keyFile)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(
                    .setupFailed, "reading client certificate \(tls.certFile) / key \(tls.keyFile): \(RPCReply.statusText(status))")
            }
        }
    }
}
