import BridgeCore
import Testing

@testable import OpenAIWire

/// The fast path against the full parser on seeded chunks of the common shape, written in many
/// ways (key order, spacing, escapes in keys and values, repeated keys, nulls) and then damaged:
/// whenever the scanner answers, the text is valid JSON and its answer is what the tree says.
@Suite("Content chunk fast path against the full parser")
struct ContentChunkScannerPropertyTests {
    private static let texts = ["", "a", "Hel", "\\n", "\\\"", "\\\\", "\\u00e9", "\\ud83d\\ude00", "é", "😀", "\\/", "<think>", " "]
    private static let spaces = ["", " ", "\n", "\t", "  "]

    static func string(using generator: inout SplitMix64) -> String {
        let count = Int(generator.next() % 4)
        return "\"" + (0..<count).map { _ in texts[Int(generator.next() % UInt64(texts.count))] }.joined() + "\""
    }

    static func stringOrNull(using generator: inout SplitMix64) -> String {
        generator.next() % 5 == 0 ? "null" : string(using: &generator)
    }

    /// A key as a model server might write it: plain, now and then with an escape in it.
    static func key(_ name: String, using generator: inout SplitMix64) -> String {
        guard generator.next() % 12 == 0, let first = name.unicodeScalars.first else { return "\"\(name)\"" }
        let escaped = "\\u" + String(repeating: "0", count: 4 - String(first.value, radix: 16).count) + String(first.value, radix: 16)
        return "\"" + escaped + name.dropFirst() + "\""
    }

    static func object(_ members: [(String, String)], using generator: inout SplitMix64) -> String {
        var members = members
        members.shuffle(using: &generator)
        if generator.next() % 8 == 0, let repeated = members.randomElement(using: &generator) { members.append(repeated) }
        let space = spaces[Int(generator.next() % UInt64(spaces.count))]
        return "{" + space + members.map { key($0.0, using: &generator) + space + ":" + space + $0.1 }.joined(separator: "," + space) + space + "}"
    }

    static func chunk(using generator: inout SplitMix64) -> String {
        var delta: [(String, String)] = []
        if generator.next() % 3 == 0 { delta.append(("role", "\"assistant\"")) }
        if generator.next() % 4 != 0 { delta.append(("content", stringOrNull(using: &generator))) }
        if generator.next() % 4 == 0 { delta.append(("reasoning_content", stringOrNull(using: &generator))) }
        if generator.next() % 6 == 0 { delta.append(("reasoning", stringOrNull(using: &generator))) }
        var choice: [(String, String)] = [("index", generator.next() % 10 == 0 ? "1" : "0"), ("delta", object(delta, using: &generator))]
        if generator.next() % 3 == 0 { choice.append(("finish_reason", stringOrNull(using: &generator))) }
        if generator.next() % 3 == 0 { choice.append(("logprobs", "null")) }
        var top: [(String, String)] = [("choices", "[" + object(choice, using: &generator) + "]")]
        if generator.next() % 2 == 0 { top.append(("id", stringOrNull(using: &generator))) }
        if generator.next() % 2 == 0 { top.append(("model", stringOrNull(using: &generator))) }
        if generator.next() % 3 == 0 { top.append(("system_fingerprint", stringOrNull(using: &generator))) }
        if generator.next() % 2 == 0 { top.append(("object", "\"chat.completion.chunk\"")) }
        if generator.next() % 3 == 0 { top.append(("created", "1740000000")) }
        if generator.next() % 4 == 0 { top.append(("usage", "null")) }
        return object(top, using: &generator)
    }

    static func damage(_ text: String, using generator: inout SplitMix64) -> String {
        var bytes = Array(text.utf8)
        let position = Int(generator.next() % UInt64(bytes.count))
        switch generator.next() % 3 {
        case 0: bytes.remove(at: position)
        case 1: bytes[position] ^= UInt8(1 << (generator.next() % 8))
        default: bytes.insert(contentsOf: Array([",", "\"", "\\", "}", "]", "null", "0", "\\u", " "][Int(generator.next() % 9)].utf8), at: position)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// What the full decoder reads from the tree, for a chunk of the scanner's shape.
    static func expected(_ tree: JSONObject) -> ContentChunkScanner.Chunk {
        let choice = tree["choices"]?.arrayValue?.first?.objectValue
        let delta = choice?["delta"]?.objectValue
        return ContentChunkScanner.Chunk(
            content: delta?["content"]?.stringValue, reasoningContent: delta?["reasoning_content"]?.stringValue,
            reasoning: delta?["reasoning"]?.stringValue, finishReason: choice?["finish_reason"]?.stringValue,
            id: tree["id"]?.stringValue, model: tree["model"]?.stringValue, systemFingerprint: tree["system_fingerprint"]?.stringValue)
    }

    @Test func whenTheScannerAnswersTheFullParserAgrees() throws {
        var generator = SplitMix64(seed: 0xC4A7)
        var answered = 0
        for attempt in 0..<2000 {
            var text = Self.chunk(using: &generator)
            if attempt % 2 == 1 { text = Self.damage(text, using: &generator) }
            guard let fast = text.withUTF8({ ContentChunkScanner.scan(UnsafeRawBufferPointer($0)) }) else { continue }
            answered += 1
            let tree = try #require(try? JSONParser.parse(text).objectValue, "the scanner read invalid JSON: \(text)")
            let slow = Self.expected(tree)
            #expect(fast.content == slow.content, "\(text)")
            #expect(fast.reasoningContent == slow.reasoningContent, "\(text)")
            #expect(fast.reasoning == slow.reasoning, "\(text)")
            #expect(fast.finishReason == slow.finishReason, "\(text)")
            #expect(fast.id == slow.id && fast.model == slow.model && fast.systemFingerprint == slow.systemFingerprint, "\(text)")
            #expect((tree["choices"]?.arrayValue?.count ?? 0) <= 1, "\(text)")
        }
        #expect(answered > 400, "the fast path took too few of the chunks to say much")
    }
}
