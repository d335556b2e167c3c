/// Writes seeded, plausible English one token at a time: paragraphs of sentences with punctuation,
/// now and then a short markdown list or a fenced code block; or, in the reasoning style, the
/// thinking-aloud of a reasoning model.
///
/// The same seed, style and planned length always give the same tokens; different seeds give
/// different text.
public struct SimulatedTextGenerator: Sendable {
    /// What kind of text to write.
    public enum Style: Sendable {
        /// An answer: paragraphs, lists, code blocks.
        case answer
        /// A reasoning section: short paragraphs of thinking aloud, no markup.
        case reasoning
    }

    /// What kind of text this generator writes.
    public let style: Style
    /// The length the caller means to take; no list or code block starts too close to it, so a
    /// complete answer does not stop inside a fence. Nil when open-ended.
    public let plannedLength: Int?
    var rng: SplitMix64
    private var pending: [String] = []
    private var pendingIndex = 0
    private var produced = 0
    private var sentencesLeft = 0
    private var atStart = true
    private var afterBlock = false

    /// A generator whose whole output is fixed by `seed`, `style` and `plannedLength`.
    public init(seed: UInt64, style: Style = .answer, plannedLength: Int? = nil) {
        self.style = style
        self.plannedLength = plannedLength
        // Mixing the style in keeps the reasoning of seed N from reading like the answer of seed N.
        self.rng = SplitMix64(seed: style == .answer ? seed : SplitMix64.mix(seed ^ 0x5245_4153_4F4E))
    }

    /// The next token.
    public mutating func next() -> String {
        while pendingIndex == pending.count {
            pending = SimulatedTokenizer.pieces(of: nextSegment())
            pendingIndex = 0
        }
        defer {
            pendingIndex += 1
            produced += 1
        }
        return pending[pendingIndex]
    }

    /// The next `count` tokens.
    public mutating func take(_ count: Int) -> [String] {
        var tokens: [String] = []
        tokens.reserveCapacity(max(0, count))
        for _ in 0..<max(0, count) { tokens.append(next()) }
        return tokens
    }

    // MARK: - Segments

    /// The next run of text, with its leading separator: a sentence, a paragraph break, a list, a code block.
    private mutating func nextSegment() -> String {
        if atStart {
            atStart = false
            sentencesLeft = rng.int(in: 2...5)
            if style == .answer && rng.chance(50) {
                return rng.pick(SimulatedVocabulary.answerIntros)
            }
            sentencesLeft -= 1
            return sentence()
        }
        if sentencesLeft > 0 {
            sentencesLeft -= 1
            return " " + sentence()
        }
        sentencesLeft = style == .answer ? rng.int(in: 2...5) : rng.int(in: 1...4)
        let roomForBlock = plannedLength.map { $0 - produced >= 60 } ?? true
        if style == .answer && roomForBlock && !afterBlock {
            let roll = rng.int(below: 100)
            if roll < 20 {
                // A block stands alone: what follows it starts a new paragraph.
                sentencesLeft = 0
                afterBlock = true
                return "\n\n" + (roll < 12 ? list() : codeBlock())
            }
        }
        afterBlock = false
        sentencesLeft -= 1
        return "\n\n" + sentence()
    }

    private mutating func sentence() -> String {
        capitalized(style == .answer ? answerSentence() : reasoningSentence())
    }

    private mutating func list() -> String {
        var text = rng.pick(SimulatedVocabulary.listIntros)
        let labelled = rng.chance(50)
        for _ in 0..<rng.int(in: 3...5) {
            let item: String
            if labelled {
                let noun = rng.pick(SimulatedVocabulary.nouns)
                item = "**\(capitalized(noun))**: \(verbPhrase()) \(nounPhrase())."
            } else {
                item = capitalized("\(rng.pick(SimulatedVocabulary.verbs).base) \(nounPhrase()) \(tail())")
            }
            text += "\n- " + item
        }
        return text
    }

    private mutating func codeBlock() -> String {
        let snippet = rng.pick(SimulatedVocabulary.snippets)
        let first = rng.pick(SimulatedVocabulary.identifiers)
        var second = rng.pick(SimulatedVocabulary.identifiers)
        if second == first { second += "s" }
        let fills = [
            ("{f}", rng.pick(SimulatedVocabulary.functionNames)), ("{a}", first), ("{b}", second),
            ("{m}", rng.pick(SimulatedVocabulary.methods)), ("{n}", number()),
        ]
        var code = snippet.lines.joined(separator: "\n")
        for (slot, value) in fills {
            code = code.replacing(slot, with: value)
        }
        let lead = rng.pick(["For example:", "Here is a minimal example:", "A sketch of the idea:", "Something like this:"])
        return "\(lead)\n\n```\(snippet.language)\n\(code)\n```"
    }

    private func capitalized(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst()
    }
}
