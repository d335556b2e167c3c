import AMQP

/// Where a prompt's answer goes: the bridge's own response queue, or the queue the requester named.
enum ReplyTarget: Sendable, Equatable {
    /// `<prefix><uid>`, declared by the bridge (durable, expiring when unused).
    case responseQueue(String)
    /// The prompt's `reply_to`: the requester owns it (often exclusive to their connection), so the
    /// bridge never declares it; an unroutable answer comes back as a return.
    case replyTo(String)

    var routingKey: String {
        switch self {
        case .responseQueue(let name), .replyTo(let name): return name
        }
    }

    func declaration(expires: Duration) -> AMQPQueueDeclaration? {
        guard case .responseQueue(let name) = self else { return nil }
        let milliseconds = expires.components.seconds * 1000 + expires.components.attoseconds / 1_000_000_000_000_000
        // A client may have declared the queue already, with other settings: use it as it is.
        return AMQPQueueDeclaration(
            name: name, durable: true, arguments: ["x-expires": .integer(max(1, milliseconds))], acceptExisting: true,
            redeclareAfter: expires / 2)
    }
}
