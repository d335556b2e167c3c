import BridgeCore
import Testing

@testable import OpenAIWire

@Suite("Chunk templates")
struct ChunkTemplateTests {
    private typealias Chunks = ContentChunkScannerPropertyTests

    private func makeTemplate(_ text: String) -> ChunkTemplate? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { bytes in
            ContentChunkScanner.scan(bytes).flatMap { ChunkTemplate(chunk: $0, bytes: bytes) }
        }
    }

    private func match(_ template: ChunkTemplate, _ text: String) -> ContentChunkScanner.Chunk? {
        Array(text.utf8).withUnsafeBytes { template.match($0) }
    }

    @Test func aChunkOfTheSameShapeIsReadByItsTextAlone() throws {
        let first = #"{"id":"c1","model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#
        let template = try #require(makeTemplate(first))
        let next = try #require(match(template, first.replacing(#""Hel""#, with: #""lo \"x\"\n""#)))
        #expect(next.content == "lo \"x\"\n")
        #expect(next.id == "c1" && next.model == "m" && next.systemFingerprint == "fp")
        #expect(next.reasoning == nil && next.reasoningContent == nil && next.finishReason == nil)
        let reasoning = try #require(makeTemplate(#"{"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"a"}}]}"#))
        #expect(match(reasoning, #"{"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"bc"}}]}"#)?.reasoningContent == "bc")
    }

    /// Any other byte outside the text, or text the parser refuses, leaves the chunk to the scanner.
    @Test(arguments: [
        #"{"id":"c2","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}"#,
        #"{"id":"c1","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}"#,
        #"{"id":"c1","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]} "#,
        #"{"id":"c1","choices":[{"index":0,"delta":{"content":"x\q"},"finish_reason":null}]}"#,
        #"{"id":"c1","choices":[{"index":0,"delta":{"content":"x"#,
        #"{"id":"c1","choices":[{"index":0,"delta":{"content":null},"finish_reason":null}]}"#,
    ])
    func anythingElseMisses(_ text: String) throws {
        let template = try #require(makeTemplate(#"{"id":"c1","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}"#))
        #expect(match(template, text) == nil)
    }

    /// No template when the string that was read last is not the one text the chunk carries.
    @Test(arguments: [
        #"{"choices":[{"index":0,"delta":{"content":"x","reasoning":"y","reasoning":null}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x","reasoning":"y"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x","content":null}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}"#,
        #"{"choices":[{"index":0,"delta":{}}]}"#,
    ])
    func onlyAPlainOneTextChunkMakesOne(_ text: String) {
        #expect(makeTemplate(text) == nil)
    }

    /// A template made from one chunk, offered that chunk with other text, and those damaged:
    /// whenever it answers, the full parser reads the same from the bytes.
    @Test func whenATemplateMatchesTheFullParserAgrees() throws {
        var generator = SplitMix64(seed: 0x7E3D)
        var matched = 0
        var templates = 0
        for _ in 0..<2000 {
            let text = Array(Chunks.chunk(using: &generator).utf8)
            guard let scanned = text.withUnsafeBytes({ ContentChunkScanner.scan($0) }),
                let template = text.withUnsafeBytes({ ChunkTemplate(chunk: scanned, bytes: $0) }),
                let range = scanned.textValue
            else { continue }
            templates += 1
            for variant in 0..<6 {
                var other = String(decoding: text[..<range.lowerBound], as: UTF8.self) + Chunks.string(using: &generator)
                    + String(decoding: text[range.upperBound...], as: UTF8.self)
                if variant % 2 == 1 { other = Chunks.damage(other, using: &generator) }
                guard let fast = Array(other.utf8).withUnsafeBytes({ template.match($0) }) else { continue }
                matched += 1
                let tree = try #require(try? JSONParser.parse(other).objectValue, "the template read invalid JSON: \(other)")
                let slow = Chunks.expected(tree)
                #expect(fast.content == slow.content && fast.reasoningContent == slow.reasoningContent, "\(other)")
                #expect(fast.reasoning == slow.reasoning && fast.finishReason == slow.finishReason, "\(other)")
                #expect(fast.id == slow.id && fast.model == slow.model && fast.systemFingerprint == slow.systemFingerprint, "\(other)")
            }
        }
        #expect(templates > 200 && matched > 2 * templates, "too few templates or matches to say much: \(templates), \(matched)")
    }
}

@Suite("Chunk templates in a stream")
struct ChunkTemplateStreamTests {
    private func chunk(_ text: String, extra: String) -> String {
        #"{"id":"c","choices":[{"index":0,"delta":{"content":""# + text + #""}}]"# + extra + "}"
    }

    /// A field that changes on every chunk makes every template miss: after a few, none are made,
    /// and the outputs are what they always were.
    @Test func aServerThatVariesEveryChunkStopsGettingTemplates() throws {
        var decoder = ChatChunkDecoder()
        var outputs: [LLMOutput] = []
        for index in 0..<20 { outputs += try decoder.decode(data: chunk("t\(index)", extra: #","obfuscation":"\#(index)""#)) }
        #expect(outputs == (0..<20).map { .text("t\($0)") })
        #expect(decoder.unmatchedTemplates == ChatChunkDecoder.unmatchedTemplateLimit)
    }

    /// The role chunk's template misses once; the next one matches and resets the count.
    @Test func aStreamThatRepeatsItsChunksKeepsItsTemplate() throws {
        var decoder = ChatChunkDecoder()
        var outputs = try decoder.decode(data: #"{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#)
        for index in 0..<20 { outputs += try decoder.decode(data: chunk("t\(index)", extra: "")) }
        #expect(outputs == (0..<20).map { .text("t\($0)") })
        #expect(decoder.unmatchedTemplates == 0)
    }

    /// A chunk read without the template may name another id or model; the next chunk the
    /// template matches names the template's again, as reading that chunk in full would.
    @Test func aMatchAfterAnotherIdentityRestoresTheTemplates() throws {
        var decoder = ChatChunkDecoder()
        _ = try decoder.decode(data: chunk("a", extra: #","model":"m1""#))
        _ = try decoder.decode(data: chunk("b", extra: #","model":"m1""#))
        #expect(decoder.id == "c" && decoder.model == "m1")
        // Two texts: the scanner reads it, and it makes no template.
        let other = #"{"id":"d","model":"m2","choices":[{"index":0,"delta":{"reasoning_content":"r","content":"x"}}]}"#
        #expect(try decoder.decode(data: other) == [.reasoning("r"), .text("x")])
        #expect(decoder.id == "d" && decoder.model == "m2")
        #expect(try decoder.decode(data: chunk("e", extra: #","model":"m1""#)) == [.text("e")])
        #expect(decoder.id == "c" && decoder.model == "m1")
        #expect(decoder.unmatchedTemplates == 0, "the last chunk was read by the template")
    }
}

extension ChunkTemplate {
    /// What the scanner would read from `bytes`, when they are this template with other text:
    /// the chunk the decoder's template path stands for, to hold against the scanner's.
    func match(_ bytes: UnsafeRawBufferPointer) -> ContentChunkScanner.Chunk? {
        guard let text = text(in: bytes) else { return nil }
        var chunk = ContentChunkScanner.Chunk(id: id, model: model, systemFingerprint: systemFingerprint)
        switch field {
        case .content: chunk.content = text
        case .reasoningContent: chunk.reasoningContent = text
        case .reasoning: chunk.reasoning = text
        }
        return chunk
    }
}
