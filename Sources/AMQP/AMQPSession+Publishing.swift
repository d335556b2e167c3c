import CRabbitMQ

extension AMQPSession {
    /// Publishes on the confirm channel, declaring `ensureQueue` first if this session has not.
    /// The outcome goes to `callback` later (confirm, return) or now (a refused declare).
    ///
    /// - Returns: an error when the session is broken and must end.
    func publish(_ message: AMQPOutgoingMessage, callback: @escaping PublishConfirms.Callback) -> AMQPError? {
        if let queue = message.ensureQueue, needsDeclaring(queue) {
            do {
                try declareQueue(queue)
            } catch let refused where refused.code == .channelClosed {
                callback(.failed(AMQPError(.declareFailed, refused.message, replyCode: refused.replyCode)))
                return nil
            } catch {
                callback(.failed(error))
                return error
            }
        }
        var sent = message.properties
        // A return names its message only by its properties: one with no id of its own gets a
        // tracking id, or its return could not be told from any other publish in flight.
        var trackingID = message.trackingID
        if trackingID == nil, message.mandatory, message.properties.messageID == nil {
            trackingID = "\(id).\(confirms.nextSequence)"
        }
        if let trackingID { sent.headers[AMQPOutgoingMessage.trackingHeader] = .string(trackingID) }
        let status = CArena.with { arena -> Int32 in
            let properties = arena.properties(sent)
            let exchange = arena.bytes(message.exchange)
            let routingKey = arena.bytes(message.routingKey)
            return message.body.withUnsafeBytes { body in
                amqp_basic_publish(
                    state, Self.publishChannel, exchange, routingKey, message.mandatory ? 1 : 0, 0, properties,
                    amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
            }
        }
        switch status {
        case AMQP_STATUS_OK.rawValue:
            confirms.record(messageID: message.properties.messageID, trackingID: trackingID, callback: callback)
            return nil
        case AMQP_STATUS_BAD_AMQP_DATA.rawValue, AMQP_STATUS_TABLE_TOO_BIG.rawValue, AMQP_STATUS_INVALID_PARAMETER.rawValue:
            // rabbitmq-c sends the publish method before it encodes the properties: the broker
            // now waits for a content header that will not come, so the channel is unusable.
            let error = AMQPError(.protocolError, "a message could not be encoded after its publish began: \(RPCReply.statusText(status))")
            callback(.failed(error))
            return error
        default:
            let error = AMQPError(.connectionLost, "publishing: \(RPCReply.statusText(status))")
            callback(.failed(error))
            return error
        }
    }

    private func needsDeclaring(_ queue: AMQPQueueDeclaration) -> Bool {
        guard let declared = declaredQueues.notedAt(queue.name) else { return true }
        guard let every = queue.redeclareAfter else { return false }
        return ContinuousClock.now - declared >= every
    }

    func ack(_ tag: UInt64) -> AMQPError? {
        sent(amqp_basic_ack(state, Self.consumeChannel, tag, 0), doing: "acknowledging a delivery")
    }

    func reject(_ tag: UInt64, requeue: Bool) -> AMQPError? {
        sent(amqp_basic_reject(state, Self.consumeChannel, tag, requeue ? 1 : 0), doing: "rejecting a delivery")
    }

    /// Stops a consumer; deliveries already on the wire still arrive.
    func cancelConsumer(_ tag: String) -> AMQPError? {
        let status = CArena.with { arena -> Int32 in
            var cancel = amqp_basic_cancel_t(consumer_tag: arena.bytes(tag), nowait: 0)
            return amqp_send_method(state, Self.consumeChannel, AMQP_BASIC_CANCEL_METHOD, &cancel)
        }
        return sent(status, doing: "cancelling consumer '\(tag)'")
    }

    private func sent(_ status: Int32, doing action: String) -> AMQPError? {
        status == AMQP_STATUS_OK.rawValue ? nil : AMQPError(.connectionLost, "\(action): \(RPCReply.statusText(status))")
    }
}
