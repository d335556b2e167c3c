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
        var properties = delivery.properties
        properties.headers["x-tokenbridge-error"] = .string(rejection.code.rawValue)
        properties.headers["x-tokenbridge-reason"] = .string(rejection.reason)
        properties.headers["x-tokenbridge-queue"] = .string(configuration.queue)
        properties.headers["x-tokenbridge-redelivered"] = .boolean(delivery.redelivered)
        properties.headers["x-tokenbridge-dead-lettered-at"] = .timestamp(UInt64(time(nil)))
        if properties.deliveryMode == nil { properties.deliveryMode = AMQPProperties.DeliveryMode.persistent.rawValue }
        let message = AMQPOutgoingMessage(
            exchange: configuration.deadLetterName, routingKey: delivery.routingKey, mandatory: true, properties: properties,
            body: delivery.body)
        let connection = self.connection
        let logger = self.logger
        connection.publish(message) { outcome in
            if outcome.isConfirmed {
                connection.ack(delivery.tag)
            } else {
                // Not requeued: it would come straight back. A dead-letter exchange of the queue's
                // own (x-dead-letter-exchange, policy) still catches it.
                logger.error(
                    "could not dead-letter a refused prompt; rejecting it without requeue",
                    metadata: ["error.code": "\(rejection.code.rawValue)", "outcome": "\(outcome)"])
                connection.reject(delivery.tag, requeue: false)
            }
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
