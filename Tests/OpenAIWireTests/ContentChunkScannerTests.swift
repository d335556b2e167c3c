import Testing

@testable import OpenAIWire

@Suite("Content chunk fast path")
struct ContentChunkScannerTests {
    private func scan(_ text: String) -> ContentChunkScanner.Chunk? {
        var text = text
        return text.withUTF8 { ContentChunkScanner.scan(UnsafeRawBufferPointer($0)) }
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
        #expect(finish.finishReason == "stop")
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
    ])
    func leavesEverythingElseToTheFullDecoder(_ text: String) {
        #expect(scan(text) == nil)
    }
}
