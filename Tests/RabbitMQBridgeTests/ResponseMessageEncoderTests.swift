import AMQP
import BridgeCore
import Testing

@testable import RabbitMQBridge

@Suite("Response messages")
struct ResponseMessageEncoderTests {
    func encoder(_ format: RabbitMQIngressConfiguration.Format, target: ReplyTarget = .responseQueue("response_u")) -> ResponseMessageEncoder {
        ResponseMessageEncoder(
            format: format, target: target, queueExpires: .seconds(600), deliveryMode: .persistent, uid: "u",
            correlationID: "corr", model: "m")
    }

    let events: [StreamEvent] = [
        StreamEvent(uid: "u", seq: 1, kind: .start(epoch: "EP0CH123", model: "m")),
        StreamEvent(uid: "u", seq: 2, kind: .delta(text: "Hel")),
        StreamEvent(uid: "u", seq: 3, kind: .reasoning(text: "hmm")),
        StreamEvent(uid: "u", seq: 4, kind: .done(finishReason: "stop", usage: Usage(promptTokens: 3, completionTokens: 1))),
    ]

    @Test func everyFormatCarriesTheSameIdentity() {
        for format in [RabbitMQIngressConfiguration.Format.json, .text, .openai] {
            var encoder = encoder(format)
            let messages = events.map { encoder.message(for: $0) }
            #expect(messages.map(\.properties.messageID) == ["u:EP0CH123:1", "u:EP0CH123:2", "u:EP0CH123:3", "u:EP0CH123:4"])
            #expect(messages.map(\.properties.type) == ["start", "delta", "reasoning", "done"])
            #expect(messages.allSatisfy { $0.properties.correlationID == "corr" && $0.properties.deliveryMode == 2 })
            #expect(messages.map { $0.properties.headers["x-seq"] } == [.integer(1), .integer(2), .integer(3), .integer(4)])
            #expect(messages.allSatisfy { $0.routingKey == "response_u" && $0.exchange.isEmpty && $0.mandatory })
            #expect(messages.allSatisfy { $0.ensureQueue?.arguments["x-expires"] == .integer(600_000) })
            #expect(messages[3].properties.headers["x-finish-reason"] == .string("stop"))
        }
    }

    @Test func bodiesFollowTheFormat() throws {
        var json = encoder(.json)
        #expect(String(decoding: json.message(for: events[1]).body, as: UTF8.self) == #"{"uid":"u","seq":2,"type":"delta","text":"Hel","done":false}"#)
        var text = encoder(.text)
        let bodies = events.map { String(decoding: text.message(for: $0).body, as: UTF8.self) }
        #expect(bodies == ["", "Hel", "", ""], "raw answer text only; reasoning never leaks into it")
        var openai = encoder(.openai)
        let chunks = try events.map { try JSONParser.parse(openai.message(for: $0).body) }
        #expect(chunks[1]["choices"]?.arrayValue?.first?["delta"]?["content"] == "Hel")
        #expect(chunks[3]["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        #expect(chunks[3]["usage"]?["completion_tokens"] == 1)
    }

    @Test func mergedDeltasSayWhichSeqsTheyCover() throws {
        var json = encoder(.json)
        _ = json.message(for: events[0])
        let merged = json.mergedDelta(text: "Hello", from: 2, to: 5)
        let body = try JSONParser.parse(merged.body)
        #expect(body["seq"] == 5 && body["seq_from"] == 2 && body["seq_to"] == 5 && body["text"] == "Hello")
        #expect(merged.properties.messageID == "u:EP0CH123:5")
        #expect(merged.properties.headers["x-seq-from"] == .integer(2))
    }

    @Test func aReplyToQueueIsNeverDeclared() {
        var encoder = encoder(.json, target: .replyTo("amq.gen-xyz"))
        let message = encoder.message(for: events[0])
        #expect(message.routingKey == "amq.gen-xyz")
        #expect(message.ensureQueue == nil)
    }

    @Test func errorsTellTheTextFormatWhyInHeaders() {
        var text = encoder(.text)
        let message = text.standalone(
            StreamEvent(uid: "u", seq: 1, kind: .error(StreamFailure(code: .invalidRequest, message: "bad"))))
        #expect(message.properties.headers["x-error-code"] == .string("invalid_request"))
        #expect(message.properties.headers["x-error-message"] == .string("bad"))
        #expect(message.properties.messageID?.hasPrefix("u:") == true && message.properties.messageID?.hasSuffix(":1") == true)
    }
}
