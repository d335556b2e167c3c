import BridgeCore

extension RabbitMQIngress {
    /// The `rabbitmq` sink for a stream that did not come from the queue (an HTTP request naming
    /// it): its answer goes to `<response_queue_prefix><uid>`, as a queue prompt's would, in the
    /// configured format. Nothing waits on it: a failure is logged and counted, and the stream goes on.
    public func responseSink(uid: String, model: String) -> any EventSink {
        let encoder = ResponseMessageEncoder(
            format: configuration.format, target: .responseQueue(configuration.responseQueuePrefix + uid),
            queueExpires: configuration.queueExpires, deliveryMode: configuration.deliveryMode, uid: uid, correlationID: uid,
            model: model)
        let logger = self.logger
        return ResponseQueueSink(
            connection: connection, encoder: encoder, coalesceWindow: configuration.coalesceWindow,
            onFailure: { [weak self] failure in
                self?.state.withLock { $0.responseSinkFailures += 1 }
                logger.warning(
                    "answer not delivered to its response queue", metadata: ["stream.id": "\(uid)", "error": "\(failure.reason)"])
            },
            onSettled: { _ in })
    }
}
