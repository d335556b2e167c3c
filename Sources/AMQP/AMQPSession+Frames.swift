import CRabbitMQ

/// What one frame meant for the connection.
enum SessionEvent {
    case nothing
    case delivery(AMQPDelivery)
    case settled([(PublishConfirms.Callback, AMQPPublishOutcome)])
    case blocked(Bool)
    /// The broker cancelled a consumer that is not part of the topology (its queue went away).
    case consumerGone(String)
    /// The session is over: the broker closed it or a channel, or the socket failed.
    case ended(AMQPError)
}

extension AMQPSession {
    enum FrameRead {
        case none
        case frame(amqp_frame_t)
        case failed(AMQPError)
    }

    /// The next complete frame if one can be had without waiting; heartbeats are sent and checked
    /// by rabbitmq-c inside this call.
    func readFrame() -> FrameRead {
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &immediately)
        switch status {
        case AMQP_STATUS_OK.rawValue: return .frame(frame)
        case AMQP_STATUS_TIMEOUT.rawValue: return .none
        case AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue:
            return .failed(AMQPError(.connectionLost, "the broker missed two heartbeats (\(heartbeatSeconds) s each)"))
        default:
            return .failed(AMQPError(.connectionLost, "reading from the broker: \(RPCReply.statusText(status))"))
        }
    }

    /// True when rabbitmq-c already holds bytes or frames: poll would not see them.
    var hasBufferedInput: Bool {
        amqp_data_in_buffer(state) != 0 || amqp_frames_enqueued(state) != 0
    }

    func handle(_ frame: amqp_frame_t) -> SessionEvent {
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_METHOD: return handleMethod(frame.payload.method, channel: frame.channel)
        case AMQP_FRAME_HEADER: return handleHeader(frame)
        case AMQP_FRAME_BODY: return handleBody(frame.payload.body_fragment, channel: frame.channel)
        default: return .nothing
        }
    }

    private func handleMethod(_ method: amqp_method_t, channel: amqp_channel_t) -> SessionEvent {
        switch method.id {
        case AMQP_BASIC_DELIVER_METHOD:
            guard let deliver = decoded(method, as: amqp_basic_deliver_t.self) else { return malformed(method) }
            assembling[channel] = ContentAssembly(
                origin: .delivery(
                    consumerTag: CDecoding.string(deliver.consumer_tag), deliveryTag: deliver.delivery_tag,
                    redelivered: deliver.redelivered != 0, exchange: CDecoding.string(deliver.exchange),
                    routingKey: CDecoding.string(deliver.routing_key)))
            return .nothing
        case AMQP_BASIC_RETURN_METHOD:
            guard let returned = decoded(method, as: amqp_basic_return_t.self) else { return malformed(method) }
            assembling[channel] = ContentAssembly(
                origin: .returned(
                    replyCode: Int(returned.reply_code), replyText: CDecoding.string(returned.reply_text),
                    exchange: CDecoding.string(returned.exchange), routingKey: CDecoding.string(returned.routing_key)))
            return .nothing
        case AMQP_BASIC_ACK_METHOD:
            guard let ack = decoded(method, as: amqp_basic_ack_t.self) else { return malformed(method) }
            return .settled(confirms.settle(tag: ack.delivery_tag, multiple: ack.multiple != 0, acked: true))
        case AMQP_BASIC_NACK_METHOD:
            guard let nack = decoded(method, as: amqp_basic_nack_t.self) else { return malformed(method) }
            return .settled(confirms.settle(tag: nack.delivery_tag, multiple: nack.multiple != 0, acked: false))
        case AMQP_BASIC_CANCEL_METHOD:
            let tag = decoded(method, as: amqp_basic_cancel_t.self).map { CDecoding.string($0.consumer_tag) } ?? "?"
            guard topologyConsumerTags.contains(tag) else { return .consumerGone(tag) }
            // A queue of the topology was deleted under its consumer: a fresh session declares it again.
            return .ended(AMQPError(.channelClosed, "the broker cancelled consumer '\(tag)' (was its queue deleted?)"))
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = decoded(method, as: amqp_channel_close_t.self)
            var closeOK = amqp_channel_close_ok_t()
            _ = amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &closeOK)
            return .ended(
                AMQPError(
                    .channelClosed, "the broker closed channel \(channel): \(close.map { CDecoding.string($0.reply_text) } ?? "")",
                    replyCode: close.map { Int($0.reply_code) }))
        case AMQP_CONNECTION_CLOSE_METHOD:
            let close = decoded(method, as: amqp_connection_close_t.self)
            var closeOK = amqp_connection_close_ok_t()
            _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &closeOK)
            return .ended(
                AMQPError(
                    .connectionClosed, "the broker closed the connection: \(close.map { CDecoding.string($0.reply_text) } ?? "")",
                    replyCode: close.map { Int($0.reply_code) }))
        case AMQP_CONNECTION_BLOCKED_METHOD:
            blocked = true
            return .blocked(true)
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
            blocked = false
            return .blocked(false)
        case AMQP_CHANNEL_FLOW_METHOD:
            var flowOK = amqp_channel_flow_ok_t(active: decoded(method, as: amqp_channel_flow_t.self)?.active ?? 1)
            _ = amqp_send_method(state, channel, AMQP_CHANNEL_FLOW_OK_METHOD, &flowOK)
            return .nothing
        default:
            // consume-ok, cancel-ok, qos-ok and the like: answers nobody waits for.
            return .nothing
        }
    }

    private func handleHeader(_ frame: amqp_frame_t) -> SessionEvent {
        guard var content = assembling[frame.channel] else {
            return .ended(AMQPError(.protocolError, "a content header without a deliver or return on channel \(frame.channel)"))
        }
        if let decoded = frame.payload.properties.decoded {
            content.properties = CDecoding.properties(decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee)
        } else {
            content.properties = AMQPProperties()
        }
        let size = frame.payload.properties.body_size
        content.expectedSize = Int(clamping: size)
        content.body.reserveCapacity(Int(clamping: min(size, 1 << 24)))
        return complete(content, channel: frame.channel)
    }

    private func handleBody(_ fragment: amqp_bytes_t, channel: amqp_channel_t) -> SessionEvent {
        guard var content = assembling[channel], content.expectedSize != nil else {
            return .ended(AMQPError(.protocolError, "a body frame without a content header on channel \(channel)"))
        }
        assembling[channel] = nil  // keeps `content.body` uniquely referenced while it grows
        if let base = fragment.bytes, fragment.len > 0 {
            content.body.append(contentsOf: UnsafeRawBufferPointer(start: base, count: fragment.len))
        }
        return complete(content, channel: channel)
    }

    private func complete(_ content: ContentAssembly, channel: amqp_channel_t) -> SessionEvent {
        guard content.isComplete else {
            assembling[channel] = content
            return .nothing
        }
        assembling[channel] = nil
        let properties = content.properties ?? AMQPProperties()
        switch content.origin {
        case .delivery(let consumerTag, let deliveryTag, let redelivered, let exchange, let routingKey):
            return .delivery(
                AMQPDelivery(
                    consumerTag: consumerTag, tag: AMQPDeliveryTag(session: id, value: deliveryTag), redelivered: redelivered,
                    exchange: exchange, routingKey: routingKey, properties: properties, body: content.body))
        case .returned(let replyCode, let replyText, let exchange, let routingKey):
            let target = exchange.isEmpty ? "queue '\(routingKey)'" : "exchange '\(exchange)' with key '\(routingKey)'"
            confirms.markReturned(
                messageID: properties.messageID, trackingID: properties.headers[AMQPOutgoingMessage.trackingHeader]?.stringValue,
                reason: "\(replyText) (\(replyCode)): no queue took it via \(target)")
            return .nothing
        }
    }

    private func decoded<Method>(_ method: amqp_method_t, as type: Method.Type) -> Method? {
        method.decoded?.assumingMemoryBound(to: Method.self).pointee
    }

    private func malformed(_ method: amqp_method_t) -> SessionEvent {
        .ended(AMQPError(.protocolError, "method \(method.id) arrived without its fields"))
    }
}
