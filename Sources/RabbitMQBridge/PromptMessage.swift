import AMQP
import BridgeCore

/// A prompt taken from the queue, checked, ready to run.
struct PromptMessage: Sendable {
    /// Where the uid came from, for the log.
    enum UIDSource: String, Sendable {
        case body = "uid"
        case legacyKey = "key"
        case messageID = "message_id"
        case generated
    }

    var request: ChatRequest
    var uid: String
    var uidSource: UIDSource
    var target: ReplyTarget
    /// Carried on every answer: the requester's correlation id, or the uid when it sent none.
    var correlationID: String
}

/// Why a prompt was refused, as the dead-letter headers and the error event say it.
struct PromptRejection: Error, Sendable, Equatable {
    /// Stable codes (`x-tokenbridge-error`): consumers of the dead-letter queue branch on them.
    enum Code: String, Sendable {
        case invalidJSON = "invalid_json"
        case missingPrompt = "missing_prompt"
        case invalidUID = "invalid_uid"
        case invalidRequest = "invalid_request"
        case tooLarge = "message_too_large"
        case expired = "expired"
        case streamExists = "stream_exists"
        /// The answer could not be delivered (the reply queue is gone, the broker refused it).
        case undeliverable = "undeliverable"
    }

    var code: Code
    var reason: String
    /// Where an `error` event about it can go, when a reply address is known.
    var target: ReplyTarget?
    var uid: String?
    var correlationID: String?
}
