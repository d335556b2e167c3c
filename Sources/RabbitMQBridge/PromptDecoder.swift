import AMQP
import BridgeCore
import Glibc

/// Reads a delivery from the prompt queue: the chatgpt-queue body (an OpenAI chat request plus
/// `uid` and `username`), or the legacy `{"key": uid, "message": text}`; with `reply_to`,
/// `correlation_id`, `message_id` and `expiration` honoured.
struct PromptDecoder {
    let maxMessageBytes: Int
    let responseQueuePrefix: String

    func decode(_ delivery: AMQPDelivery, now: UInt64 = UInt64(time(nil))) -> Result<PromptMessage, PromptRejection> {
        let properties = delivery.properties
        let replyTo = properties.replyTo.flatMap { $0.isEmpty ? nil : $0 }
        let messageIDUID = properties.messageID.flatMap { StreamID.isValid($0) ? $0 : nil }
        func rejection(_ code: PromptRejection.Code, _ reason: String, uid: String? = messageIDUID) -> PromptRejection {
            PromptRejection(
                code: code, reason: reason, target: target(replyTo: replyTo, uid: uid), uid: uid,
                correlationID: properties.correlationID ?? uid)
        }

        guard delivery.body.count <= maxMessageBytes else {
            return .failure(rejection(.tooLarge, "The prompt is \(delivery.body.count) bytes; the limit is \(maxMessageBytes)."))
        }
        if let reason = expiry(properties, now: now) {
            return .failure(rejection(.expired, reason))
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(delivery.body)
        } catch {
            return .failure(rejection(.invalidJSON, "The prompt is not valid JSON: \(error)"))
        }
        guard case .object(let object) = value else {
            return .failure(rejection(.invalidJSON, "The prompt must be a JSON object, not \(value.typeName)."))
        }
        // Reply to the uid the body names when it is a good one, even if the rest is refused.
        let claimed = [object["uid"]?.stringValue, object["key"]?.stringValue].compactMap { $0 }.first { StreamID.isValid($0) }
        let replyUID = claimed ?? messageIDUID
        let body: JSONObject
        var uidSource = PromptMessage.UIDSource.body
        var legacyKey: String?
        if object["messages"] == nil, let message = object["message"] {
            guard let text = message.stringValue else {
                return .failure(rejection(.invalidRequest, "'message' must be a string, not \(message.typeName).", uid: replyUID))
            }
            switch legacy(object, text: text) {
            case .success(let converted):
                (body, legacyKey) = converted
                uidSource = .legacyKey
            case .failure(let refused):
                return .failure(rejection(.invalidUID, refused.message, uid: replyUID))
            }
        } else if object["messages"] == nil {
            return .failure(
                rejection(
                    .missingPrompt, "The prompt has neither 'messages' (an OpenAI chat request) nor 'message' (the legacy form).",
                    uid: replyUID))
        } else {
            body = object
        }
        var request: ChatRequest
        do {
            request = try ChatRequest.parse(.object(body))
        } catch {
            let code: PromptRejection.Code = error.param == "uid" ? .invalidUID : .invalidRequest
            return .failure(rejection(code, error.message, uid: replyUID))
        }
        let uid: String
        if let given = request.uid ?? legacyKey {
            uid = given
        } else if let messageIDUID {
            uid = messageIDUID
            uidSource = .messageID
        } else {
            uid = StreamID.generate()
            uidSource = .generated
        }
        request.uid = uid
        return .success(
            PromptMessage(
                request: request, uid: uid, uidSource: uidSource,
                target: target(replyTo: replyTo, uid: uid) ?? .responseQueue(responseQueuePrefix + uid),
                correlationID: properties.correlationID ?? uid))
    }

    private func target(replyTo: String?, uid: String?) -> ReplyTarget? {
        if let replyTo { return .replyTo(replyTo) }
        return uid.map { .responseQueue(responseQueuePrefix + $0) }
    }

    /// `{"key", "message"}` as an OpenAI request with one user message; the key is the uid.
    private func legacy(_ object: JSONObject, text: String) -> Result<(JSONObject, String?), LegacyKeyError> {
        var key: String?
        if let value = object["key"], !value.isNull {
            guard let string = value.stringValue, StreamID.isValid(string) else {
                return .failure(
                    LegacyKeyError(
                        "'key' must be 1-\(StreamID.maximumLength) characters of [A-Za-z0-9_.:-] (it names the response queue)."))
            }
            key = string
        }
        var body = JSONObject()
        for (name, value) in object where name != "key" && name != "message" { body[name] = value }
        body["messages"] = [["role": "user", "content": .string(text)]]
        return .success((body, key))
    }

    /// Per-message TTL: the broker drops a prompt that waited too long in the queue; one that waited
    /// past it elsewhere (redelivered late) is refused here, when its `timestamp` says so.
    private func expiry(_ properties: AMQPProperties, now: UInt64) -> String? {
        guard let text = properties.expiration, let milliseconds = UInt64(text), let sent = properties.timestamp else { return nil }
        let deadline = sent + (milliseconds + 999) / 1000
        guard now > deadline else { return nil }
        return "The prompt expired: sent at \(sent) with expiration \(text) ms, received at \(now)."
    }
}

struct LegacyKeyError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
