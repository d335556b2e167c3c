import BridgeCore
import Testing

@testable import OpenAIWire

@Suite("Content chunk fast path")
struct ContentChunkScannerTests {
    private func scan(_ text: String, known: ContentChunkScanner.Chunk = .init()) -> ContentChunkScanner.Chunk? {
        var text = text
        return text.withUTF8 { ContentChunkScanner.scan(UnsafeRawBufferPointer($0), known: known) }
    }

    /// Known values are only a shortcut: the result is what scanning without them gives.
    @Test(arguments: [
        #"{"id":"c1","model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"a"}}]}"#,
        #"{"id":"c2","model":"m2","choices":[{"index":0,"delta":{"content":"a"}}]}"#,
        #"{"id":"c\u0031","model":"m\"x","choices":[{"index":0,"delta":{"content":"a"}}]}"#,
        #"{"id":"","model":null,"choices":[{"index":0,"delta":{"content":"a"}}]}"#,
        #"{"id":"c1x","model":"","choices":[{"index":0,"delta":{"content":"a"}}]}"#,
    ])
    func knownValuesChangeNothingButTheWork(_ text: String) throws {
        let plain = try #require(scan(text))
        for known in [
            ContentChunkScanner.Chunk(id: "c1", model: "m", systemFingerprint: "fp"),
            ContentChunkScanner.Chunk(id: "c1", model: #"m\"x"#, systemFingerprint: nil),
            ContentChunkScanner.Chunk(id: "", model: "", systemFingerprint: ""),
        ] {
            let fast = try #require(scan(text, known: known))
            #expect(fast.id == plain.id)
            #expect(fast.model == plain.model)
            #expect(fast.systemFingerprint == plain.systemFingerprint)
            #expect(fast.content == plain.content)
        }
    }

    @Test func aRawControlCharacterIsRefusedEvenWhenTheBytesMatchAKnownValue() {
        let text = "{\"id\":\"a\nb\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}"
        #expect(scan(text, known: .init(id: "a\nb")) == nil)
    }

    @Test func readsTheCommonShapes() throws {
        let openAI = try #require(
            scan(#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"Hel\nlo \"x\""},"logprobs":null,"finish_reason":null}]}"#))
        #expect(openAI.content == "Hel\nlo \"x\"")
        #expect(openAI.id == "chatcmpl-1")
        #expect(openAI.model == "gpt")
        #expect(openAI.finishReason == nil)
        let reasoning = try #require(
            scan(#"{"id":"x","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":"hmm"},"finish_reason":null}],"usage":null}"#))
        #expect(reasoning.reasoningContent == "hmm")
        #expect(reasoning.content == nil)
        let finish = try #require(scan(#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#))
        let spaced = try #require(scan(#"{"object":null,"choices":[{"index": 0 ,"delta":{"content":"s"}}]}"#))
        #expect(spaced.content == "s")
        #expect(finish.finishReason == "stop")
        // Python's json.dumps puts a space after every ':' and ','.
        let python = try #require(
            scan(#"{"id": "x", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "p"}, "logprobs": null, "finish_reason": null}]}"#))
        #expect(python.content == "p" && python.id == "x")
    }

    @Test(arguments: [
        #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0}]}}]}"#,
        #"{"choices":[],"usage":{"prompt_tokens":1}}"#,
        #"{"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}"#,
        #"{"error":{"message":"boom"}}"#,
        #"{"object":"error","message":"boom"}"#,
        #"{"choices":[{"index":1,"delta":{"content":"b"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":5}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"a"}}]} trailing"#,
        #"{"id":,"choices":[]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"a"}}"#,
        #"{"model":"m"}"#,
        #"{"object":5,"choices":[{"index":0,"delta":{"content":"a"}}]}"#,
        #"{"object":"err\u006fr","choices":[{"index":0,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"index":0.5,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"index":01,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"index":0e1,"delta":{"content":"a"}}]}"#,
        // Invalid JSON in a member the fast path only steps over: the parser refuses it.
        #"{"choices":[{"index":0,"delta":{"content":"a"},"logprobs":nul}]}"#,
        #"{"provider":"\x","choices":[{"index":0,"delta":{"content":"a"}}]}"#,
        #"{"created":1e999,"choices":[{"index":0,"delta":{"content":"a"}}]}"#,
        #"{"extra":[1,,2],"choices":[{"index":0,"delta":{"content":"a"}}]}"#,
        // A repeated key counts with its last value: the parser's call.
        #"{"choices":[{"index":0,"delta":{"content":"a"}}],"choices":[]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"a"},"delta":{"reasoning":"b"}}]}"#,
    ])
    func leavesEverythingElseToTheFullDecoder(_ text: String) {
        #expect(scan(text) == nil)
    }

    /// Nesting counts from the chunk's root, as in the parser: 255 levels under a member pass
    /// in both, 256 fail in both (for a top-level, a choice and a delta member).
    @Test(arguments: [("x", 1), ("logprobs", 3), ("role", 4)])
    func nestingIsLimitedFromTheRoot(_ member: String, _ depth: Int) throws {
        func chunk(_ levels: Int) -> String {
            let nested = String(repeating: "[", count: levels) + String(repeating: "]", count: levels)
            switch depth {
            case 1: return #"{"choices":[{"index":0,"delta":{"content":"a"}}],"x":"# + nested + "}"
            case 3: return #"{"choices":[{"index":0,"delta":{"content":"a"},"logprobs":"# + nested + "}]}"
            default: return #"{"choices":[{"index":0,"delta":{"content":"a","role":"# + nested + "}}]}"
            }
        }
        let deepest = JSONParser.maximumDepth - depth
        #expect((try? JSONParser.parse(chunk(deepest))) != nil && scan(chunk(deepest)) != nil, "\(member)")
        #expect((try? JSONParser.parse(chunk(deepest + 1))) == nil && scan(chunk(deepest + 1)) == nil, "\(member)")
    }

    /// Plain strings are read a word at a time: a quote, an escape or a raw control character at
    /// any offset within or across words, after one-, two- and four-byte characters, must end,
    /// divert or refuse the string exactly where a byte-at-a-time reading would. The strings are
    /// the ones read that way: a member name the scanner does not know, and an id equal to the
    /// stream's known one (other values go through the parser).
    @Test(arguments: ["a", "é", "😀"])
    func plainStringsEndWhereTheirFirstStopByteIs(_ filler: String) throws {
        let rest = #""choices":[{"index":0,"delta":{"content":"a"}}]}"#
        for offset in 0..<20 {
            var head = ""
            while head.utf8.count < offset { head += filler }
            for tail in ["", "abcdefghijklmnop"] {
                let text = head + tail
                #expect(scan("{\"\(text)\":1,\(rest)") != nil, "a plain unknown name, \(offset)")
                #expect(scan("{\"\(head)\u{01}\(tail)\":1,\(rest)") == nil, "a control character in a name, \(offset)")
                #expect(scan("{\"\(head)\\u0041\(tail)\":1,\(rest)") == nil, "an escaped name goes to the parser, \(offset)")
                let known = ContentChunkScanner.Chunk(id: text)
                let same = try #require(scan("{\"id\":\"\(text)\",\(rest)", known: known))
                #expect(same.id == text)
                let escaped = try #require(scan("{\"id\":\"\(head)\\n\(tail)\",\(rest)", known: known))
                #expect(escaped.id == head + "\n" + tail)
                let control = head + "\u{1F}" + tail
                #expect(scan("{\"id\":\"\(control)\",\(rest)", known: .init(id: control)) == nil)
            }
        }
    }

    @Test func stopBytesFlagTheFirstQuoteBackslashOrControlCharacter() {
        func word(_ bytes: [UInt8]) -> UInt64 {
            bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        }
        func first(_ bytes: [UInt8]) -> Int? {
            let stops = ContentChunkScanner.stopBytes(in: word(bytes))
            return stops == 0 ? nil : stops.trailingZeroBitCount / 8
        }
        #expect(first(Array("abcdefgh".utf8)) == nil)
        #expect(first([0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 0x7F, 0x20]) == nil, "UTF-8 and DEL are not stops")
        #expect(first([0x21, 0x23, 0x5B, 0x5D, 0xA2, 0xDC, 0xFF, 0x20]) == nil, "neighbours of the stops are not stops")
        for position in 0..<8 {
            for stop: UInt8 in [0x22, 0x5C, 0x00, 0x01, 0x1F] {
                var bytes = Array("abcdefgh".utf8)
                bytes[position] = stop
                #expect(first(bytes) == position, "\(stop) at \(position)")
                if position < 7 {
                    bytes[7] = 0x00  // a later stop, and the borrow it starts, change nothing
                    #expect(first(bytes) == position, "\(stop) at \(position), zero at 7")
                }
            }
        }
    }
}
