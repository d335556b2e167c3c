import BridgeCore
import OpenAIWire
import Testing

@Suite("ChatChunkDecoder")
struct ChatChunkDecoderTests {
    private func chunk(_ delta: String, finish: String = "null", extra: String = "") -> String {
        #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":"#
            + delta + #","finish_reason":"# + finish + "}]" + extra + "}"
    }

    @Test("[DONE] ends the stream, with or without spaces, and later data is ignored")
    func done() throws {
        var decoder = ChatChunkDecoder()
        #expect(try decoder.decode(data: " [DONE] ") == [])
        #expect(decoder.isDone)
        #expect(try decoder.decode(data: chunk(#"{"content":"late"}"#)) == [])
        #expect(decoder.chunkCount == 0)
    }

    @Test("blank data and named events other than error are ignored")
    func ignored() throws {
        var decoder = ChatChunkDecoder()
        #expect(try decoder.decode(data: "") == [])
        #expect(try decoder.decode(SSEMessage(event: "ping", data: "not json")) == [])
        #expect(!decoder.isDone)
    }

    @Test("an error member mid-stream throws upstream_error with its message", arguments: [
        (#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#, "Rate limit reached"),
        (#"{"error":"model 'llama9' not found"}"#, "model 'llama9' not found"),
        (#"{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}"#,
         "This model's maximum context length is 4096 tokens."),
    ])
    func errorChunk(data: String, message: String) {
        var decoder = ChatChunkDecoder()
        #expect(throws: StreamFailure(code: .upstreamError, message: message)) { try decoder.decode(data: data) }
    }

    @Test("an error event throws, whatever its data")
    func errorEvent() {
        var decoder = ChatChunkDecoder()
        #expect(throws: StreamFailure(code: .upstreamError, message: "worker died")) {
            try decoder.decode(SSEMessage(event: "error", data: "worker died\n"))
        }
    }

    @Test("invalid JSON and non-object chunks are protocol errors")
    func invalidJSON() {
        var decoder = ChatChunkDecoder()
        #expect {
            try decoder.decode(data: #"{"choices":[{"delta":{"content":"x"}"#)
        } throws: { error in
            (error as? StreamFailure)?.code == .upstreamProtocol
        }
        #expect {
            try decoder.decode(data: "[1,2]")
        } throws: { error in
            (error as? StreamFailure)?.code == .upstreamProtocol
        }
    }

    @Test("reasoning under both names in one delta is taken once; null error and usage are fine")
    func reasoningOnce() throws {
        var decoder = ChatChunkDecoder()
        let data = chunk(#"{"reasoning_content":"hm","reasoning":"hm","content":null}"#, extra: #","usage":null,"error":null"#)
        #expect(try decoder.decode(data: data) == [.reasoning("hm")])
    }

    @Test("content, finish reason and usage from one chunk come out in that order")
    func order() throws {
        var decoder = ChatChunkDecoder()
        let data = chunk(
            #"{"content":"end"}"#, finish: #""length""#,
            extra: #","usage":{"prompt_tokens":3,"completion_tokens":4}"#)
        #expect(
            try decoder.decode(data: data) == [
                .text("end"), .finishReason("length"), .usage(Usage(promptTokens: 3, completionTokens: 4)),
            ])
        #expect(decoder.sawFinishReason)
        #expect(decoder.model == "m")
        #expect(decoder.id == "c")
    }

    @Test("a think tag left open when the finish reason arrives is released")
    func thinkFlushedAtFinish() throws {
        var decoder = ChatChunkDecoder()
        #expect(try decoder.decode(data: chunk(#"{"content":"<thi"}"#)) == [])
        #expect(try decoder.decode(data: chunk("{}", finish: #""stop""#)) == [.text("<thi"), .finishReason("stop")])
    }

    @Test("tool calls without an index are assembled by id")
    func toolCallsWithoutIndex() throws {
        var decoder = ChatChunkDecoder()
        var outputs: [LLMOutput] = []
        outputs += try decoder.decode(data: chunk(#"{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{\"x\":"}}]}"#))
        outputs += try decoder.decode(data: chunk(#"{"tool_calls":[{"function":{"arguments":"1}"}}]}"#))
        outputs += try decoder.decode(data: chunk(#"{"tool_calls":[{"id":"b","function":{"name":"g","arguments":{"y":2}}}]}"#))
        outputs += try decoder.decode(data: chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":""}}]}"#))
        #expect(
            Assembled(outputs).toolCalls == [
                ToolCallDelta(index: 0, id: "a", name: "f", arguments: #"{"x":1}"#),
                ToolCallDelta(index: 1, id: "b", name: "g", arguments: #"{"y":2}"#),
            ])
        #expect(outputs.count == 3)
    }

    @Test("choices other than the first and unknown fields are ignored; Groq usage is read")
    func otherChoicesAndGroq() throws {
        var decoder = ChatChunkDecoder()
        let data = #"""
            {"id":"c","choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine","novel":1}}],
             "x_groq":{"id":"req_1","usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11,"queue_time":0.02}}}
            """#
        #expect(
            try decoder.decode(data: data) == [
                .text("mine"),
                .usage(Usage(promptTokens: 5, completionTokens: 6, details: JSONObject([("queue_time", 0.02)]))),
            ])
    }
}
