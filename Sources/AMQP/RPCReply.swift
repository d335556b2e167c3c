import CRabbitMQ

/// Reads rabbitmq-c's answer to a synchronous call (login, declare, channel.open...).
enum RPCReply {
    /// What a failed call means, or nil when it succeeded.
    static func error(_ reply: amqp_rpc_reply_t, doing action: String) -> ServerException? {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return nil
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            switch reply.reply.id {
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = reply.reply.decoded?.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return ServerException(
                    scope: .connection, replyCode: Int(close?.reply_code ?? 0),
                    text: close.map { CDecoding.string($0.reply_text) } ?? "", action: action)
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = reply.reply.decoded?.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return ServerException(
                    scope: .channel, replyCode: Int(close?.reply_code ?? 0),
                    text: close.map { CDecoding.string($0.reply_text) } ?? "", action: action)
            default:
                return ServerException(scope: .connection, replyCode: 0, text: "unexpected method \(reply.reply.id)", action: action)
            }
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return ServerException(scope: .library, replyCode: 0, text: statusText(reply.library_error), action: action)
        default:
            return ServerException(scope: .library, replyCode: 0, text: "no reply", action: action)
        }
    }

    static func statusText(_ status: Int32) -> String {
        amqp_error_string2(status).map { String(cString: $0) } ?? "status \(status)"
    }
}

/// A failed synchronous call: the broker closed the channel or the connection, or the library failed.
struct ServerException: Error {
    enum Scope {
        /// The channel is closed and must be acknowledged (channel.close-ok) and reopened.
        case channel
        /// The connection is closed.
        case connection
        /// rabbitmq-c itself failed (socket, timeout, encoding): the connection cannot be trusted.
        case library
    }

    let scope: Scope
    let replyCode: Int
    let text: String
    let action: String

    var asError: AMQPError {
        switch scope {
        case .channel:
            return AMQPError(.channelClosed, "\(action): \(text)", replyCode: replyCode)
        case .connection:
            let code: AMQPError.Code = replyCode == 403 ? .accessRefused : .connectionClosed
            return AMQPError(code, "\(action): \(text)", replyCode: replyCode)
        case .library:
            return AMQPError(.connectionLost, "\(action): \(text)")
        }
    }
}
