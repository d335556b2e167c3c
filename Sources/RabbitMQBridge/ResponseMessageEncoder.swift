import AMQP
import BridgeCore
import Glibc
import OpenAIWire

/// Turns one stream's events into AMQP messages for its reply queue: the body in the configured
/// format, and properties that let any consumer order, de-duplicate and recognise a rerun
/// (`message_id = <uid>:<epoch>:<seq>`, header `x-seq`, `type` = the event type).
struct ResponseMessageEncoder {
    let format: RabbitMQIngressConfiguration.Format
    let target: ReplyTarget
    let declaration: AMQPQueueDeclaration?
    let deliveryMode: AMQPProperties.DeliveryMode
    let uid: String
    let correlationID: String
    /// The run's epoch, learned from its `start` event.
    private(set) var epoch = ""
    private var chunks: ChatChunkEncoder

    init(
        format: RabbitMQIngressConfiguration.Format, target: ReplyTarget, queueExpires: Duration,
        deliveryMode: AMQPProperties.DeliveryMode, uid: String, correlationID: String, model: String
    ) {
        self.format = format
        self.target = target
        self.declaration = target.declaration(expires: queueExpires)
        self.deliveryMode = deliveryMode
        self.uid = uid
        self.correlationID = correlationID
        chunks = ChatChunkEncoder(uid: uid, model: model)
    }

    mutating func message(for event: StreamEvent) -> AMQPOutgoingMessage {
        if case .start(let epoch, _) = event.kind { self.epoch = epoch }
        return message(type: event.type, seq: event.seq, seqFrom: nil, body: body(for: event), extra: headers(for: event))
    }

    /// Text deltas `from...to` merged into one message; its seq is the last one it covers.
    mutating func mergedDelta(text: String, from: Int, to: Int) -> AMQPOutgoingMessage {
        let body: [UInt8]
        switch format {
        case .json:
            body = StreamEvent.mergedDeltaJSON(uid: uid, from: from, to: to, text: text)
        case .text:
            body = Array(text.utf8)
        case .openai:
            body = chunks.encode(StreamEvent(uid: uid, seq: to, kind: .delta(text: text))).first ?? []
        }
        return message(type: "delta", seq: to, seqFrom: from, body: body, extra: [])
    }

    /// One event outside any run (a refused prompt's `error`), under a fresh epoch.
    mutating func standalone(_ event: StreamEvent) -> AMQPOutgoingMessage {
        epoch = StreamID.generateEpoch()
        return message(for: event)
    }

    // MARK: - Parts

    private mutating func body(for event: StreamEvent) -> [UInt8] {
        switch format {
        case .json:
            return event.jsonBytes()
        case .text:
            if case .delta(let text) = event.kind { return Array(text.utf8) }
            return []
        case .openai:
            if case .done(let reason, let usage) = event.kind { return chunks.finishChunk(finishReason: reason, usage: usage) }
            return chunks.encode(event).first ?? []
        }
    }

    /// What the text format cannot put in its body goes in headers, so its consumers still learn
    /// how the answer ended.
    private func headers(for event: StreamEvent) -> [AMQPTable.Entry] {
        switch event.kind {
        case .done(let reason, let usage):
            var entries = [AMQPTable.Entry(key: "x-finish-reason", value: .string(reason))]
            if let usage {
                entries.append(AMQPTable.Entry(key: "x-prompt-tokens", value: .integer(Int64(usage.promptTokens))))
                entries.append(AMQPTable.Entry(key: "x-completion-tokens", value: .integer(Int64(usage.completionTokens))))
            }
            return entries
        case .error(let failure):
            return [
                AMQPTable.Entry(key: "x-error-code", value: .string(failure.code.rawValue)),
                AMQPTable.Entry(key: "x-error-message", value: .string(failure.message)),
            ]
        default:
            return []
        }
    }

    private func message(type: String, seq: Int, seqFrom: Int?, body: [UInt8], extra: [AMQPTable.Entry]) -> AMQPOutgoingMessage {
        var headers = AMQPTable([
            AMQPTable.Entry(key: "x-uid", value: .string(uid)),
            AMQPTable.Entry(key: "x-epoch", value: .string(epoch)),
            AMQPTable.Entry(key: "x-seq", value: .integer(Int64(seq))),
        ])
        if let seqFrom {
            headers.entries.append(AMQPTable.Entry(key: "x-seq-from", value: .integer(Int64(seqFrom))))
            headers.entries.append(AMQPTable.Entry(key: "x-seq-to", value: .integer(Int64(seq))))
        }
        headers.entries += extra
        let properties = AMQPProperties(
            contentType: format == .text ? "text/plain; charset=utf-8" : "application/json", headers: headers,
            deliveryMode: deliveryMode, correlationID: correlationID, messageID: "\(uid):\(epoch):\(seq)",
            timestamp: UInt64(time(nil)), type: type, appID: "tokenbridge")
        return AMQPOutgoingMessage(
            routingKey: target.routingKey, mandatory: true, properties: properties, body: body, ensureQueue: declaration)
    }
}
