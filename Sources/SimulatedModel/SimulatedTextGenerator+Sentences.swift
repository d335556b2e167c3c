/// Sentence templates: a handful of shapes with random words in their slots give enough variety
/// that no two answers read the same, while every sentence stays grammatical.
extension SimulatedTextGenerator {
    typealias Words = SimulatedVocabulary

    mutating func answerSentence() -> String {
        switch rng.int(below: 20) {
        case 0...4:
            return "\(opener(30))\(nounPhrase()) \(verbPhrase()) \(nounPhrase())\(optionalTail(50))."
        case 5...7:
            let clause = "\(nounPhrase()) \(verbPhrase()) \(nounPhrase())"
            return "\(opener(20))\(clause)\(rng.pick(Words.connectors)) \(nounPhrase()) \(verbPhrase()) \(nounPhrase())."
        case 8...9:
            return "If \(nounPhrase()) \(verbPhrase()) \(nounPhrase()), \(nounPhrase()) \(verbPhrase()) \(nounPhrase())\(optionalTail(40))."
        case 10...11:
            return "It is \(rng.pick(Words.importance)) to \(rng.pick(Words.verbs).base) \(nounPhrase())\(optionalTail(60))."
        case 12:
            return "You can \(rng.pick(Words.verbs).base) \(nounPhrase()) \(tail()), and \(nounPhrase()) \(verbPhrase()) \(nounPhrase())."
        case 13:
            return "This is why \(nounPhrase()) \(verbPhrase()) \(nounPhrase())."
        case 14...15:
            return "\(opener(25))\(nounPhrase()) \(verbPhrase()) \(nounPhrase()) and \(verbPhrase()) \(nounPhrase())\(optionalTail(40))."
        case 16:
            return "Why does \(nounPhrase()) \(rng.pick(Words.verbs).base) \(nounPhrase())?"
        case 17:
            return "\(nounPhrase()) \(verbPhrase()) \(nounPhrase()) (for example, \(nounPhrase()))\(optionalTail(30))."
        case 18:
            let units = rng.pick(["requests", "messages", "tokens", "connections", "events", "bytes"])
            return "\(opener(30))\(nounPhrase()) \(verbPhrase()) up to \(number()) \(units) per second."
        default:
            return "\(opener(100))\(nounPhrase()) \(verbPhrase()) \(nounPhrase()) \(tail())."
        }
    }

    mutating func reasoningSentence() -> String {
        switch rng.int(below: 10) {
        case 0...3:
            let frame = "\(rng.pick(Words.reasoningOpeners)) \(rng.pick(Words.reasoningFrames))"
            return "\(frame) \(nounPhrase()) \(verbPhrase()) \(nounPhrase())\(optionalTail(40))."
        case 4...5:
            return "\(rng.pick(Words.reasoningFrames)) \(nounPhrase()) \(verbPhrase()) \(nounPhrase())."
        case 6:
            return "What if \(nounPhrase()) \(verbPhrase()) \(nounPhrase()) \(tail())?"
        case 7:
            return "Let me think about \(nounPhrase()) first."
        case 8:
            return "No, that is not quite right: \(nounPhrase()) \(verbPhrase()) \(nounPhrase())."
        default:
            return "So the answer should mention \(nounPhrase()) and \(nounPhrase())."
        }
    }

    /// "the shared buffer", "an explicit limit", "each `session` value".
    mutating func nounPhrase() -> String {
        var determiner = rng.pick(Words.determiners)
        var words: [String] = []
        if rng.chance(5) {
            words.append("`\(rng.pick(Words.identifiers))`")
        } else if rng.chance(40) {
            words.append(rng.pick(Words.adjectives))
        }
        words.append(rng.pick(Words.nouns))
        if determiner == "a", let first = words[0].first, "aeiou".contains(first) {
            determiner = "an"
        }
        return ([determiner] + words).joined(separator: " ")
    }

    mutating func verbPhrase() -> String {
        let verb = rng.pick(Words.verbs).third
        return rng.chance(15) ? rng.pick(["usually", "often", "also", "still", "only"]) + " " + verb : verb
    }

    mutating func tail() -> String {
        rng.pick(Words.tails)
    }

    mutating func number() -> String {
        String(rng.pick([2, 3, 5, 10, 20, 50, 100, 200, 500, 1000]))
    }

    private mutating func opener(_ percent: Int) -> String {
        rng.chance(percent) ? rng.pick(Words.openers) + " " : ""
    }

    private mutating func optionalTail(_ percent: Int) -> String {
        rng.chance(percent) ? " " + tail() : ""
    }
}
