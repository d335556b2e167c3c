import BridgeCore

// Shapes recorded from open-model servers: vLLM, Ollama, DeepSeek, llama.cpp.
extension StreamFixture {
    /// vLLM with a reasoning parser: `reasoning_content`, then content; a keep-alive comment; one
    /// chunk carrying the same text under both `reasoning_content` and `reasoning`.
    static let vLLM: StreamFixture = {
        var fixture = StreamFixture(
            "vLLM reasoning_content",
            #"""
            data: {"id":"chatcmpl-6a3e","object":"chat.completion.chunk","created":1740000000,"model":"Qwen/QwQ-32B","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

            : keep-alive

            data: {"id":"chatcmpl-6a3e","object":"chat.completion.chunk","created":1740000000,"model":"Qwen/QwQ-32B","choices":[{"index":0,"delta":{"reasoning_content":"Okay, "},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-6a3e","object":"chat.completion.chunk","created":1740000000,"model":"Qwen/QwQ-32B","choices":[{"index":0,"delta":{"reasoning_content":"the user says hi.","reasoning":"the user says hi."},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-6a3e","object":"chat.completion.chunk","created":1740000000,"model":"Qwen/QwQ-32B","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-6a3e","object":"chat.completion.chunk","created":1740000000,"model":"Qwen/QwQ-32B","choices":[{"index":0,"delta":{"content":" there!"},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-6a3e","object":"chat.completion.chunk","created":1740000000,"model":"Qwen/QwQ-32B","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":null}]}

            data: {"id":"chatcmpl-6a3e","object":"chat.completion.chunk","created":1740000000,"model":"Qwen/QwQ-32B","choices":[],"usage":{"prompt_tokens":12,"total_tokens":40,"completion_tokens":28,"prompt_tokens_details":null}}

            data: [DONE]
            """#)
        fixture.reasoning = "Okay, the user says hi."
        fixture.text = "Hello there!"
        fixture.finishReason = "stop"
        fixture.usage = Usage(promptTokens: 12, completionTokens: 28, totalTokens: 40)
        fixture.model = "Qwen/QwQ-32B"
        return fixture
    }()

    /// Ollama's /v1 endpoint with a thinking model: `reasoning` deltas, `fp_ollama`, usage chunk.
    static let ollama: StreamFixture = {
        var fixture = StreamFixture(
            "Ollama reasoning",
            #"""
            data: {"id":"chatcmpl-455","object":"chat.completion.chunk","created":1751000000,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"Okay"},"finish_reason":null}]}

            data: {"id":"chatcmpl-455","object":"chat.completion.chunk","created":1751000000,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":", a greeting."},"finish_reason":null}]}

            data: {"id":"chatcmpl-455","object":"chat.completion.chunk","created":1751000000,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}

            data: {"id":"chatcmpl-455","object":"chat.completion.chunk","created":1751000000,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"! 😊"},"finish_reason":null}]}

            data: {"id":"chatcmpl-455","object":"chat.completion.chunk","created":1751000000,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop"}]}

            data: {"id":"chatcmpl-455","object":"chat.completion.chunk","created":1751000000,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":42,"total_tokens":53}}

            data: [DONE]
            """#)
        fixture.reasoning = "Okay, a greeting."
        fixture.text = "Hi! 😊"
        fixture.finishReason = "stop"
        fixture.usage = Usage(promptTokens: 11, completionTokens: 42, totalTokens: 53)
        fixture.model = "qwen3:8b"
        return fixture
    }()

    /// deepseek-reasoner: keep-alive comments while queued, reasoning_content with content null,
    /// then content; usage on the last chunk that also has a choice, with cache counters.
    static let deepSeek: StreamFixture = {
        var fixture = StreamFixture(
            "DeepSeek reasoner",
            #"""
            : keep-alive

            : keep-alive

            data: {"id":"8f0e1c2a","object":"chat.completion.chunk","created":1737000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]}

            data: {"id":"8f0e1c2a","object":"chat.completion.chunk","created":1737000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"9.11 vs 9.9: "},"logprobs":null,"finish_reason":null}]}

            data: {"id":"8f0e1c2a","object":"chat.completion.chunk","created":1737000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"0.90 > 0.11."},"logprobs":null,"finish_reason":null}]}

            data: {"id":"8f0e1c2a","object":"chat.completion.chunk","created":1737000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":"9.9 is larger.","reasoning_content":null},"logprobs":null,"finish_reason":null}]}

            data: {"id":"8f0e1c2a","object":"chat.completion.chunk","created":1737000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":"","reasoning_content":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":17,"completion_tokens":120,"total_tokens":137,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":95},"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":17}}

            data: [DONE]
            """#)
        fixture.reasoning = "9.11 vs 9.9: 0.90 > 0.11."
        fixture.text = "9.9 is larger."
        fixture.finishReason = "stop"
        fixture.usage = Usage(
            promptTokens: 17, completionTokens: 120, totalTokens: 137,
            details: JSONObject([
                ("prompt_tokens_details", ["cached_tokens": 0]),
                ("completion_tokens_details", ["reasoning_tokens": 95]),
                ("prompt_cache_hit_tokens", 0),
                ("prompt_cache_miss_tokens", 17),
            ]))
        fixture.model = "deepseek-reasoner"
        return fixture
    }()

    /// llama.cpp serving an R1 distill: reasoning inline in `<think>` with both tags split across
    /// chunks, a literal `<think>` later in the answer, usage and timings on the finish chunk.
    static let inlineThink: StreamFixture = {
        var fixture = StreamFixture(
            "llama.cpp inline think",
            #"""
            data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1740000100,"id":"chatcmpl-lc","model":"DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf","system_fingerprint":"b4800","object":"chat.completion.chunk"}

            data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"\n<thi"}}],"created":1740000100,"id":"chatcmpl-lc","model":"DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf","system_fingerprint":"b4800","object":"chat.completion.chunk"}

            data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"nk>\nOkay, 2+2"}}],"created":1740000100,"id":"chatcmpl-lc","model":"DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf","system_fingerprint":"b4800","object":"chat.completion.chunk"}

            data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":" is 4 < 5.\n</th"}}],"created":1740000100,"id":"chatcmpl-lc","model":"DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf","system_fingerprint":"b4800","object":"chat.completion.chunk"}

            data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"ink>\n\n"}}],"created":1740000100,"id":"chatcmpl-lc","model":"DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf","system_fingerprint":"b4800","object":"chat.completion.chunk"}

            data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"The answer is 4 (no <think> here)."}}],"created":1740000100,"id":"chatcmpl-lc","model":"DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf","system_fingerprint":"b4800","object":"chat.completion.chunk"}

            data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1740000100,"id":"chatcmpl-lc","model":"DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf","system_fingerprint":"b4800","object":"chat.completion.chunk","usage":{"completion_tokens":30,"prompt_tokens":8,"total_tokens":38},"timings":{"prompt_n":8,"prompt_ms":12.3,"predicted_n":30,"predicted_ms":310.5}}

            data: [DONE]
            """#)
        fixture.reasoning = "Okay, 2+2 is 4 < 5.\n"
        fixture.text = "The answer is 4 (no <think> here)."
        fixture.finishReason = "stop"
        fixture.usage = Usage(promptTokens: 8, completionTokens: 30, totalTokens: 38)
        fixture.model = "DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf"
        return fixture
    }()

    /// OpenRouter reports a provider failure mid-stream as a chunk with an `error` member.
    static let midStreamError: StreamFixture = {
        var fixture = StreamFixture(
            "mid-stream error chunk",
            #"""
            data: {"id":"gen-17","object":"chat.completion.chunk","created":1741000000,"model":"meta-llama/llama-3.3-70b-instruct","provider":"Together","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}

            : OPENROUTER PROCESSING

            data: {"id":"gen-17","object":"chat.completion.chunk","created":1741000000,"model":"meta-llama/llama-3.3-70b-instruct","provider":"Together","error":{"code":502,"message":"Provider returned error"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}

            data: [DONE]
            """#)
        fixture.text = "Hel"
        fixture.model = "meta-llama/llama-3.3-70b-instruct"
        fixture.failure = StreamFailure(code: .upstreamError, message: "Provider returned error")
        fixture.endsWithDone = false
        return fixture
    }()

    /// A server that reports failure as a named SSE event.
    static let errorEvent: StreamFixture = {
        var fixture = StreamFixture(
            "event: error",
            #"""
            data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]}

            event: error
            data: {"error":{"message":"CUDA out of memory","type":"InternalServerError","code":500}}
            """#)
        fixture.text = "partial"
        fixture.model = "m"
        fixture.failure = StreamFailure(code: .upstreamError, message: "CUDA out of memory")
        fixture.endsWithDone = false
        return fixture
    }()

    static let all: [StreamFixture] = [
        openAI, toolCalls, azure, vLLM, ollama, deepSeek, inlineThink, midStreamError, errorEvent,
        framing(lineEnding: "\n", name: "LF"), framing(lineEnding: "\r\n", name: "CRLF"),
        framing(lineEnding: "\r", name: "CR"),
    ]
}
