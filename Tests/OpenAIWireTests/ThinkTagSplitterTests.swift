import BridgeCore
import OpenAIWire
import Testing

@Suite("ThinkTagSplitter")
struct ThinkTagSplitterTests {
    /// Feeds `pieces` and folds the outputs; also checks no piece is empty.
    private func split(_ pieces: [String], enabled: Bool = true) -> (reasoning: String, text: String) {
        var splitter = ThinkTagSplitter(enabled: enabled)
        var outputs: [LLMOutput] = []
        for piece in pieces { outputs += splitter.feed(piece) }
        outputs += splitter.finish()
        #expect(!outputs.contains(.text("")) && !outputs.contains(.reasoning("")))
        let answer = Assembled(outputs)
        return (answer.reasoning, answer.text)
    }

    /// Every way of cutting `content` into two and into three pieces, at character boundaries.
    private func everySplit(of content: String) -> [[String]] {
        let characters = Array(content)
        var result: [[String]] = [[content]]
        for first in 1..<characters.count {
            result.append([String(characters[..<first]), String(characters[first...])])
            for second in (first + 1)..<max(characters.count, first + 1) {
                result.append([
                    String(characters[..<first]), String(characters[first..<second]), String(characters[second...]),
                ])
            }
        }
        return result
    }

    @Test("a think block at the start is reasoning, however its tags are split")
    func splitTags() {
        let content = "\n<think>\nLet me see: 1 < 2.\n</think>\n\nThe answer is <b>yes</b>."
        for pieces in everySplit(of: content) {
            let (reasoning, text) = split(pieces)
            #expect(reasoning == "Let me see: 1 < 2.\n", "\(pieces)")
            #expect(text == "The answer is <b>yes</b>.", "\(pieces)")
        }
    }

    @Test("a literal <think> later in prose stays text")
    func literalTagInProse() {
        for pieces in everySplit(of: "Use the <think> tag, then </think>.") {
            let (reasoning, text) = split(pieces)
            #expect(reasoning == "")
            #expect(text == "Use the <think> tag, then </think>.")
        }
    }

    @Test("content that only looks like the tag's start is text")
    func nearMisses() {
        #expect(split(["<thinking>", " out loud"]) == ("", "<thinking> out loud"))
        #expect(split(["<th", "ink"]) == ("", "<think"))
        #expect(split(["  "]) == ("", "  "))
        #expect(split(["<b>bold</b>"]) == ("", "<b>bold</b>"))
    }

    @Test("an unclosed think block is all reasoning; a second block is text")
    func unclosedAndRepeated() {
        #expect(split(["<think>still going </thi"]) == ("still going </thi", ""))
        #expect(split(["<think>a</think>b<think>c</think>"]) == ("a", "b<think>c</think>"))
        #expect(split(["<think>", "</think>", "answer"]) == ("", "answer"))
    }

    @Test("disabled, everything is text")
    func disabled() {
        #expect(split(["<think>x</think>y"], enabled: false) == ("", "<think>x</think>y"))
    }

    @Test("only a possible tag prefix is held back")
    func minimalHoldBack() {
        var splitter = ThinkTagSplitter()
        #expect(splitter.feed("<") == [])
        #expect(splitter.feed("thi") == [])
        #expect(splitter.feed("nk>Hmm") == [.reasoning("Hmm")])
        #expect(splitter.sawThinkTag)
        #expect(splitter.feed(", 5 <") == [.reasoning(", 5 ")])
        #expect(splitter.feed(" 6</") == [.reasoning("< 6")])
        #expect(splitter.feed("think") == [])
        #expect(splitter.feed(">\n\nDone") == [.text("Done")])
        #expect(splitter.feed(" <think>") == [.text(" <think>")])

        var plain = ThinkTagSplitter()
        #expect(plain.feed("Hi") == [.text("Hi")])
        #expect(plain.feed("<") == [.text("<")])
        #expect(!plain.sawThinkTag)
    }
}
