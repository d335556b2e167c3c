import AMQP
import BridgeCore
import Glibc

extension RabbitMQIngress {
    /// Moves a refused prompt to `<queue>.dead`, intact, with headers saying why, and acks it only
    /// once the broker confirmed the copy. A reply address that is known also gets an `error` event.
    func deadLetter(_ delivery: AMQPDelivery, _ rejection: PromptRejection) {
        logger.warning(
            "prompt refused, moved to the dead-letter queue",
            metadata: [
                "amqp.queue": "\(configuration.queue)", "error.code": "\(rejection.code.rawValue)", "error": "\(rejection.reason)",
                "stream.id": "\(rejection.uid ?? "-")",
            ])
        if let target = rejection.target { publishError(rejection, to: target) }
        let message = AMQPOutgoingMessage(
            exchange: configuration.deadLetterName, routingKey: delivery.routingKey, mandatory: true,
            properties: deadLetterProperties(delivery, rejection), body: delivery.body,
            // The copy keeps the prompt's own message_id, which may be missing or shared: a
            // tracking id lets a return be matched to this copy.
            trackingID: StreamID.generate())
        let connection = self.connection
        let logger = self.logger
        connection.publish(message) { [weak self] outcome in
            switch outcome {
            case .confirmed:
                connection.ack(delivery.tag)
            case .failed(let error) where error.code == .connectionLost || error.code == .notConnected || error.code == .shutdown:
                // The session is gone and the broker has the prompt back: it comes round again.
                break
            default:
                // Not dropped, and not requeued at once (it would come straight back): back to
                // the queue after a hold, to be refused and moved again.
                let hold = self?.state.withLock { $0.holdBackoff.hold() - .now } ?? .seconds(1)
                logger.error(
                    "could not move a refused prompt to the dead-letter queue; it goes back to the queue",
                    metadata: ["error.code": "\(rejection.code.rawValue)", "outcome": "\(outcome)", "retry.in": "\(hold)"])
                connection.schedule(after: hold) { connection.reject(delivery.tag, requeue: true) }
            }
        }
    }

    /// The prompt's own properties, with headers saying why it was refused. Headers so large that
    /// the copy might not fit one AMQP frame (131 KB) are left out and the copy says so.
    private func deadLetterProperties(_ delivery: AMQPDelivery, _ rejection: PromptRejection) -> AMQPProperties {
        var properties = delivery.properties
        if Self.estimatedSize(of: properties.headers) > 64 << 10 {
            properties.headers = ["x-tokenbridge-headers-dropped": .boolean(true)]
        }
        properties.headers["x-tokenbridge-error"] = .string(rejection.code.rawValue)
        properties.headers["x-tokenbridge-reason"] = .string(String(rejection.reason.utf8.prefix(1000)) ?? rejection.code.rawValue)
        properties.headers["x-tokenbridge-queue"] = .string(configuration.queue)
        properties.headers["x-tokenbridge-redelivered"] = .boolean(delivery.redelivered)
        properties.headers["x-tokenbridge-dead-lettered-at"] = .timestamp(UInt64(time(nil)))
        if properties.deliveryMode == nil { properties.deliveryMode = AMQPProperties.DeliveryMode.persistent.rawValue }
        return properties
    }

    /// A generous estimate of a header table's encoded size.
    static func estimatedSize(of table: AMQPTable) -> Int {
        table.entries.reduce(0) { $0 + $1.key.utf8.count + 10 + estimatedSize(of: $1.value) }
    }

    private static func estimatedSize(of value: AMQPFieldValue) -> Int {
        switch value {
        case .string(let text): return text.utf8.count + 4
        case .bytes(let bytes): return bytes.count + 4
        case .table(let table): return estimatedSize(of: table) + 4
        case .array(let items): return items.reduce(4) { $0 + estimatedSize(of: $1) + 1 }
        default: return 9
        }
    }

    /// The `error` event a refused prompt's reader is waiting for, so it does not wait forever.
    private func publishError(_ rejection: PromptRejection, to target: ReplyTarget) {
        let uid = rejection.uid ?? ""
        var encoder = ResponseMessageEncoder(
            format: configuration.format, target: target, queueExpires: configuration.queueExpires,
            deliveryMode: configuration.deliveryMode, uid: uid, correlationID: rejection.correlationID ?? uid, model: "")
        let failure = StreamFailure(code: StreamFailure.Code(rawValue: rejection.code.rawValue), message: rejection.reason)
        let logger = self.logger
        connection.publish(encoder.standalone(StreamEvent(uid: uid, seq: 1, kind: .error(failure)))) { outcome in
            if !outcome.isConfirmed {
                logger.info("could not tell the reply queue about a refused prompt", metadata: ["outcome": "\(outcome)"])
            }
        }
    }
}
