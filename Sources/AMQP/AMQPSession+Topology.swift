import CRabbitMQ

extension AMQPSession {
    /// Declares everything in `topology` with synchronous calls; nothing else is in flight yet.
    func declare(_ topology: AMQPTopology, skipConsumers: Set<String>) throws(AMQPError) {
        for exchange in topology.exchanges {
            CArena.with { arena in
                _ = amqp_exchange_declare(
                    state, Self.declareChannel, arena.bytes(exchange.name), arena.bytes(exchange.type), 0,
                    exchange.durable ? 1 : 0, 0, 0, amqp_table_t(num_entries: 0, entries: nil))
            }
            try check("declaring exchange '\(exchange.name)'")
        }
        for queue in topology.queues {
            try declareQueue(queue)
        }
        for binding in topology.bindings {
            CArena.with { arena in
                _ = amqp_queue_bind(
                    state, Self.declareChannel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                    arena.bytes(binding.routingKey), amqp_table_t(num_entries: 0, entries: nil))
            }
            try check("binding queue '\(binding.queue)' to exchange '\(binding.exchange)'")
        }
        if topology.prefetch > 0 {
            _ = amqp_basic_qos(state, Self.consumeChannel, 0, UInt16(clamping: topology.prefetch), 0)
            try check("setting the prefetch to \(topology.prefetch)")
        }
        for consumer in topology.consumers where !skipConsumers.contains(consumer.tag) {
            CArena.with { arena in
                _ = amqp_basic_consume(
                    state, Self.consumeChannel, arena.bytes(consumer.queue), arena.bytes(consumer.tag), 0,
                    consumer.noAck ? 1 : 0, 0, arena.table(consumer.arguments))
            }
            try check("consuming from queue '\(consumer.queue)'")
        }
    }

    /// Declares a queue on the declare channel, so a refusal closes nothing with work in flight.
    /// When the queue exists with other settings (406) and the declaration accepts that, it is
    /// used as it is: its owner chose those settings.
    ///
    /// Throws `.channelClosed` (the declare channel is open again) or a session-ending error.
    func declareQueue(_ queue: AMQPQueueDeclaration) throws(AMQPError) {
        do {
            try queueDeclare(queue, passive: false)
        } catch let refusal where refusal.code == .channelClosed {
            try reopenDeclareChannel()
            guard refusal.replyCode == Int(AMQP_PRECONDITION_FAILED), queue.acceptExisting else { throw refusal }
            do {
                try queueDeclare(queue, passive: true)
            } catch let second where second.code == .channelClosed {
                try reopenDeclareChannel()
                throw second
            }
        }
        declaredQueues.insert(queue.name)
    }

    private func queueDeclare(_ queue: AMQPQueueDeclaration, passive: Bool) throws(AMQPError) {
        CArena.with { arena in
            _ = amqp_queue_declare(
                state, Self.declareChannel, arena.bytes(queue.name), passive ? 1 : 0, queue.durable ? 1 : 0,
                queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0, passive ? amqp_table_t() : arena.table(queue.arguments))
        }
        try check("declaring queue '\(queue.name)'\(passive ? " (passive)" : "")")
    }

    /// The broker closed the declare channel: acknowledge that (channel.close-ok) and open it again.
    func reopenDeclareChannel() throws(AMQPError) {
        var closeOK = amqp_channel_close_ok_t()
        let status = amqp_send_method(state, Self.declareChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &closeOK)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionLost, "acknowledging a channel close: \(RPCReply.statusText(status))")
        }
        amqp_maybe_release_buffers_on_channel(state, Self.declareChannel)
        _ = amqp_channel_open(state, Self.declareChannel)
        try check("reopening the declare channel")
    }

    /// Starts a consumer outside the topology: a refusal of the declare or the consume is that
    /// call's error (`.declareFailed`, `.channelClosed`); other errors end the session.
    func startConsumer(_ consumer: AMQPConsumer, declaring queue: AMQPQueueDeclaration?) -> AMQPError? {
        do {
            if let queue, !declaredQueues.contains(queue.name) { try declareQueue(queue) }
        } catch let refused where refused.code == .channelClosed {
            return AMQPError(.declareFailed, refused.message, replyCode: refused.replyCode)
        } catch {
            return error
        }
        CArena.with { arena in
            _ = amqp_basic_consume(
                state, Self.consumeChannel, arena.bytes(consumer.queue), arena.bytes(consumer.tag), 0,
                consumer.noAck ? 1 : 0, 0, arena.table(consumer.arguments))
        }
        do {
            try check("consuming from queue '\(consumer.queue)'")
            return nil
        } catch {
            // A refused consume closed the consume channel, and with it every consumer and unacked
            // delivery: the session cannot go on.
            return AMQPError(.connectionLost, error.message, replyCode: error.replyCode)
        }
    }

    /// Deletes a queue on the declare channel; the session's memory of it goes too.
    func deleteQueue(_ name: String) -> AMQPError? {
        declaredQueues.remove(name)
        CArena.with { arena in _ = amqp_queue_delete(state, Self.declareChannel, arena.bytes(name), 0, 0) }
        do {
            try check("deleting queue '\(name)'")
            return nil
        } catch let refused where refused.code == .channelClosed {
            do { try reopenDeclareChannel() } catch { return error }
            return nil
        } catch {
            return error
        }
    }
}
