import BridgeCore
import Testing

@testable import SimulatedModel

@Suite("SimulatedModel.plan")
struct SimulatedModelPlanTests {
    let model = SimulatedModel(configuration: .init(tokens: 120, tokensPerSecond: 0))

    @Test func samePromptGivesTheSameAnswerAndOtherPromptsAnother() {
        let first = model.plan(for: request("What is a queue?"), model: "m")
        #expect(first == model.plan(for: request("What is a queue?"), model: "m"))
        #expect(first.text != model.plan(for: request("What is a stack?"), model: "m").text)
        #expect(first.text.count > 300)
    }

    @Test func promptSeedIgnoresKeyOrderAndOtherFields() {
        let messages: JSONValue = [["role": "user", "content": "Hi"]]
        let reordered: JSONValue = [["content": "Hi", "role": "user"]]
        #expect(SimulatedModel.seed(forMessages: messages) == SimulatedModel.seed(forMessages: reordered))
        let streamed = model.plan(for: request("Hi", [("stream", true), ("model", "other")]), model: "other")
        #expect(streamed.text == model.plan(for: request("Hi"), model: "m").text)
    }

    @Test func configuredSeedFixesTheAnswerWhateverThePrompt() {
        let seeded = SimulatedModel(configuration: .init(tokensPerSecond: 0, seed: 5))
        #expect(seeded.plan(for: request("A"), model: "m").text == seeded.plan(for: request("B"), model: "m").text)
        #expect(seeded.plan(for: request("A"), model: "m").seed == 5)
    }

    @Test func requestSeedOverridesAndMockSeedWins() {
        let one = model.plan(for: request("A", [("seed", 1)]), model: "m")
        #expect(one.text == model.plan(for: request("B", [("seed", 1)]), model: "m").text)
        #expect(one.text != model.plan(for: request("A", [("seed", 2)]), model: "m").text)
        let mock = model.plan(for: request("A", [("seed", 2), ("mock", ["seed": 1])]), model: "m")
        #expect(mock.text == one.text)
        let differentSeeds = Set((1...6).map { model.plan(for: request("A", [("seed", .integer($0))]), model: "m").text })
        #expect(differentSeeds.count == 6)
    }

    @Test func answerHasTheConfiguredLengthAndStops() {
        let answer = model.plan(for: request(), model: "m")
        #expect(answer.tokenCount == 120)
        #expect(answer.textPieces.count == 120)
        #expect(answer.finishReason == "stop")
        #expect(answer.outputs.suffix(2) == [.finishReason("stop"), .usage(answer.usage)])
        #expect(answer.text.hasSuffix(".") || answer.text.hasSuffix("?"))
    }

    @Test(arguments: ["max_tokens", "max_completion_tokens"])
    func maxTokensCapsTheAnswerWithFinishLength(field: String) {
        let full = model.plan(for: request(), model: "m")
        let capped = model.plan(for: request("Explain backpressure.", [(field, 10)]), model: "m")
        #expect(capped.tokenCount == 10)
        #expect(capped.finishReason == "length")
        #expect(capped.outputs.last == .usage(capped.usage))
        #expect(capped.textPieces == Array(full.textPieces.prefix(10)))
        #expect(capped.usage.completionTokens == 10)
    }

    @Test func theSmallerCapWinsAndALargeCapDoesNotCut() {
        let both = model.plan(for: request("x", [("max_tokens", 30), ("max_completion_tokens", 7)]), model: "m")
        #expect(both.tokenCount == 7)
        let roomy = model.plan(for: request("x", [("max_tokens", 500)]), model: "m")
        #expect(roomy.tokenCount == 120 && roomy.finishReason == "stop")
    }

    @Test func reasoningComesFirstAndNeverMixesWithText() {
        let answer = model.plan(for: request("Why?", [("mock", ["reasoning": true, "reasoning_tokens": 25])]), model: "m")
        let kinds = answer.outputs.map { output -> String in
            switch output {
            case .reasoning: return "r"
            case .text: return "t"
            default: return "-"
            }
        }.joined()
        #expect(kinds == String(repeating: "r", count: 25) + String(repeating: "t", count: 120) + "--")
        #expect(!answer.reasoning.isEmpty && !answer.text.contains(answer.reasoning))
        #expect(answer.usage.completionTokens == 145)
        #expect(answer.usage.details["completion_tokens_details"]?["reasoning_tokens"] == 25)
    }

    @Test func configuredReasoningAndItsCap() {
        let reasoner = SimulatedModel(configuration: .init(tokens: 40, tokensPerSecond: 0, reasoning: true))
        let answer = reasoner.plan(for: request(), model: "m")
        #expect(answer.reasoningPieces.count == 30 && answer.textPieces.count == 40)
        let capped = reasoner.plan(for: request("Explain backpressure.", [("max_tokens", 20)]), model: "m")
        #expect(capped.reasoningPieces.count == 20 && capped.textPieces.isEmpty && capped.finishReason == "length")
        let off = reasoner.plan(for: request("x", [("mock", ["reasoning": false])]), model: "m")
        #expect(off.reasoningPieces.isEmpty)
    }

    @Test func usageEstimatesPromptTokensFromTheMessagesText() {
        let answer = model.plan(for: request(String(repeating: "a", count: 40)), model: "m")
        #expect(answer.usage.promptTokens == 10)
        #expect(answer.usage.completionTokens == 120 && answer.usage.totalTokens == 130)
        let parts: JSONValue = [
            ["role": "system", "content": "12345678"],
            ["role": "user", "content": [["type": "text", "text": "abcd"], ["type": "image_url"]]],
        ]
        #expect(SimulatedModel.promptTokens(forMessages: parts) == 3)
        #expect(SimulatedModel.promptTokens(forMessages: [["role": "user", "content": ""]]) == 1)
    }

    @Test func mockKnobsSetLengthRateAndDelay() {
        let answer = model.plan(for: request("x", [("mock", ["tokens": 50, "rate": 100, "delay_ms": 30])]), model: "m")
        #expect(answer.tokenCount == 50 && answer.tokensPerSecond == 100)
        #expect(answer.interval == .milliseconds(10))
        #expect(answer.offset(ofOutput: 0) == .milliseconds(40))
        #expect(answer.offset(ofOutput: 49) == .milliseconds(530))
        #expect(answer.offset(ofOutput: 51) == .milliseconds(530), "usage comes with the last token")
        let unpaced = model.plan(for: request("x", [("mock", ["rate": 0, "tokens": 0])]), model: "m")
        #expect(unpaced.interval == .zero && unpaced.tokenCount == 0 && unpaced.offset(ofOutput: 1) == .zero)
    }

    @Test func failAfterEndsWithAFailureInsteadOfAFinish() {
        let answer = model.plan(for: request("x", [("mock", ["fail_after": 5])]), model: "m")
        #expect(answer.outputs.count == 5 && answer.tokenCount == 5)
        #expect(answer.failure?.code == .upstreamDisconnected)
        #expect(!answer.outputs.contains(.finishReason("stop")))
    }

    @Test func knobsOfTheWrongTypeAreIgnoredAndCountsClamped() {
        let odd = model.plan(for: request("x", [("mock", ["tokens": "many", "rate": "fast"]), ("max_tokens", "3")]), model: "m")
        #expect(odd.tokenCount == 120 && odd.tokensPerSecond == 0)
        let huge = model.plan(for: request("x", [("mock", ["tokens": 1e12]), ("max_tokens", 5)]), model: "m")
        #expect(huge.tokenCount == 5)
        let negative = model.plan(for: request("x", [("mock", ["tokens": -4])]), model: "m")
        #expect(negative.tokenCount == 0 && negative.finishReason == "stop")
    }
}
