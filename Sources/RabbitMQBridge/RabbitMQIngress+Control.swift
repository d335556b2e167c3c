import AMQP
import BridgeCore

extension RabbitMQIngress {
    /// `{"uid": "...", "action": "cancel"}` from the control exchange: cancels that stream if it
    /// runs on this process (every process gets every control message).
    func handleControl(_ delivery: AMQPDelivery) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(delivery.body)
        } catch {
            logger.warning("ignoring a control message that is not JSON", metadata: ["error": "\(error)"])
            return
        }
        guard let action = value["action"]?.stringValue, let uid = value["uid"]?.stringValue else {
            logger.warning("ignoring a control message without string 'uid' and 'action'")
            return
        }
        guard action == "cancel" else {
            logger.warning("ignoring an unknown control action", metadata: ["action": "\(action)"])
            return
        }
        if pipeline.cancel(uid: uid) {
            logger.info("stream cancelled by a control message", metadata: ["stream.id": "\(uid)"])
        } else {
            logger.debug("control cancel for a stream not running here", metadata: ["stream.id": "\(uid)"])
        }
    }
}
