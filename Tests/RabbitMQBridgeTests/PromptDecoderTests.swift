import AMQP
import BridgeCore
import Testing

@testable import RabbitMQBridge

@Suite("Prompt decoding")
struct PromptDecoderTests {
    let decoder = PromptDecoder(maxMessageBytes: 1024, responseQueuePrefix: "response_")

    func delivery(_ body: String, _ properties: AMQPProperties = AMQPProperties()) -> AMQPDelivery {
        AMQPDelivery(
            consumerTag: "t", tag: AMQPDeliveryTag(session: 1, value: 1), redelivered: false, exchange: "",
            routingKey: "chat_incoming", properties: properties, body: Array(body.utf8))
    }

    func decoded(_ body: String, _ properties: AMQPProperties = AMQPProperties()) throws -> PromptMessage {
        try decoder.decode(delivery(body, properties)).get()
    }

    func rejected(_ body: String, _ properties: AMQPProperties = AMQPProperties()) -> PromptRejection? {
        guard case .failure(let rejection) = decoder.decode(delivery(body, properties)) else { return nil }
        return rejection
    }

    @Test func readsTheChatgptQueueRequestFormat() throws {
        let prompt = try decoded(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"uid":"u-1","username":"bob","max_tokens":2000}"#)
        #expect(prompt.uid == "u-1")
        #expect(prompt.uidSource == .body)
        #expect(prompt.request.username == "bob")
        #expect(prompt.request.model == "m")
        #expect(prompt.request.body["max_tokens"] == 2000)
        #expect(prompt.request.body["uid"] == nil, "the bridge's own fields do not go to the model")
        #expect(prompt.target == .responseQueue("response_u-1"))
        #expect(prompt.correlationID == "u-1")
    }

    @Test func readsTheLegacyKeyAndMessage() throws {
        let prompt = try decoded(#"{"key":"k-9","message":"What is the capital of France?"}"#)
        #expect(prompt.uid == "k-9")
        #expect(prompt.uidSource == .legacyKey)
        #expect(prompt.request.body["messages"] == [["role": "user", "content": "What is the capital of France?"]])
        #expect(prompt.request.body["key"] == nil && prompt.request.body["message"] == nil)
    }

    @Test func takesTheUIDFromMessageIDOrMakesOne() throws {
        let body = #"{"messages":[{"role":"user","content":"hi"}]}"#
        let named = try decoded(body, AMQPProperties(messageID: "mid-1"))
        #expect(named.uid == "mid-1" && named.uidSource == .messageID)
        let unusable = try decoded(body, AMQPProperties(messageID: "has space"))
        #expect(unusable.uidSource == .generated && StreamID.isValid(unusable.uid))
    }

    @Test func honoursReplyToAndCorrelationID() throws {
        let prompt = try decoded(
            #"{"uid":"u","messages":[{"role":"user","content":"hi"}]}"#,
            AMQPProperties(correlationID: "c-1", replyTo: "amq.gen-abc"))
        #expect(prompt.target == .replyTo("amq.gen-abc"))
        #expect(prompt.correlationID == "c-1")
    }

    @Test func refusesWithACodeAndAReplyAddressWhenOneIsKnown() {
        #expect(rejected("nope")?.code == .invalidJSON)
        #expect(rejected("nope")?.target == nil)
        #expect(rejected("nope", AMQPProperties(replyTo: "r"))?.target == .replyTo("r"))
        #expect(rejected(#""just a string""#)?.code == .invalidJSON)
        let missing = rejected(#"{"uid":"u-2"}"#)
        #expect(missing?.code == .missingPrompt)
        #expect(missing?.target == .responseQueue("response_u-2"))
        #expect(rejected(#"{"uid":"a b","messages":[{"role":"user","content":"x"}]}"#)?.code == .invalidUID)
        #expect(rejected(#"{"uid":"a b","messages":[{"role":"user","content":"x"}]}"#)?.target == nil)
        #expect(rejected(#"{"key":"a/b","message":"x"}"#)?.code == .invalidUID)
        #expect(rejected(#"{"key":"k","message":["x"]}"#)?.code == .invalidRequest)
        #expect(rejected(#"{"messages":[{"role":"user","content":"x"}],"n":2}"#)?.code == .invalidRequest)
        #expect(rejected(String(repeating: " ", count: 1025))?.code == .tooLarge)
    }

    @Test func refusesAPromptThatExpiredBeforeItArrived() {
        let body = #"{"messages":[{"role":"user","content":"x"}]}"#
        let old = AMQPProperties(expiration: "5000", timestamp: 1_000)
        guard case .failure(let rejection) = decoder.decode(delivery(body, old), now: 1_010) else {
            Issue.record("an expired prompt was accepted")
            return
        }
        #expect(rejection.code == .expired)
        #expect((try? decoder.decode(delivery(body, old), now: 1_004).get()) != nil)
        #expect((try? decoder.decode(delivery(body, AMQPProperties(expiration: "5000")), now: 9_999).get()) != nil)
    }
}
