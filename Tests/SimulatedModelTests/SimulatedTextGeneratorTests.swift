import Testing

@testable import SimulatedModel

@Suite("SimulatedTextGenerator")
struct SimulatedTextGeneratorTests {
    @Test func sameSeedGivesTheSameTokens() {
        var first = SimulatedTextGenerator(seed: 42)
        var second = SimulatedTextGenerator(seed: 42)
        let tokens = first.take(500)
        #expect(tokens.count == 500)
        #expect(tokens == second.take(500))
    }

    @Test func differentSeedsGiveDifferentText() {
        let texts = (1...8).map { seed -> String in
            var generator = SimulatedTextGenerator(seed: UInt64(seed))
            return generator.take(60).joined()
        }
        #expect(Set(texts).count == texts.count)
    }

    @Test func tokensLookLikeATokenizersPieces() {
        var generator = SimulatedTextGenerator(seed: 7)
        let tokens = generator.take(3000)
        #expect(tokens.allSatisfy { !$0.isEmpty })
        let spaced = tokens.filter { $0.hasPrefix(" ") && $0.dropFirst().first?.isLetter == true }
        #expect(spaced.count > tokens.count / 2, "mostly words with their leading space")
        #expect(tokens.contains(",") && tokens.contains("."))
        #expect(tokens.contains { $0.hasPrefix("\n\n") }, "paragraphs")
        #expect(tokens.contains { !$0.hasPrefix(" ") && $0.first?.isLetter == true && $0.count > 1 }, "word pieces")
        let average = Double(tokens.joined().count) / Double(tokens.count)
        #expect(average > 2 && average < 8, "about four characters per token, got \(average)")
    }

    @Test func answersSometimesHoldListsAndCodeBlocks() {
        var generator = SimulatedTextGenerator(seed: 3)
        let text = generator.take(20_000).joined()
        #expect(text.contains("\n- "))
        #expect(text.contains("```"))
        #expect(text.contains("?"))
    }

    @Test func reasoningIsPlainThinkingAloud() {
        var generator = SimulatedTextGenerator(seed: 3, style: .reasoning)
        let text = generator.take(5000).joined()
        #expect(!text.contains("```") && !text.contains("\n- "))
        var answer = SimulatedTextGenerator(seed: 3)
        #expect(answer.take(100).joined() != String(text.prefix(400)))
    }

    @Test func tokenizerKeepsTheText() {
        let text = "Sure! Here is `code`:\n\n```swift\n    let x = 1\n```\nIt's   spaced  "
        #expect(SimulatedTokenizer.pieces(of: text).joined() == text)
        #expect(SimulatedTokenizer.pieces(of: "Read the configuration").contains(" the"))
    }
}
