import BridgeCore

// Shapes recorded from OpenAI and Azure OpenAI, trimmed to a few tokens.
extension StreamFixture {
    /// gpt-4o with `stream_options.include_usage`: role chunk, content, finish, usage-only chunk.
    static let openAI: StreamFixture = {
        var fixture = StreamFixture(
            "OpenAI with include_usage",
            #"""
            data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{"content":"Bonjour"},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{"content":" ! Ça va très bien 👋"},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{"content":"\n\"caf\u00e9\" \ud83c\udf75"},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}

            data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}

            data: [DONE]
            """#)
        fixture.text = "Bonjour ! Ça va très bien 👋\n\"café\" 🍵"
        fixture.finishReason = "stop"
        fixture.usage = Usage(
            promptTokens: 19, completionTokens: 10, totalTokens: 29,
            details: JSONObject([
                ("prompt_tokens_details", ["cached_tokens": 0, "audio_tokens": 0]),
                (
                    "completion_tokens_details",
                    [
                        "reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0,
                        "rejected_prediction_tokens": 0,
                    ]
                ),
            ]))
        fixture.model = "gpt-4o-2024-08-06"
        return fixture
    }()

    /// Two parallel tool calls, arguments split mid-token and mid-character.
    static let toolCalls: StreamFixture = {
        var fixture = StreamFixture(
            "OpenAI parallel tool calls",
            #"""
            data: {"id":"chatcmpl-tc1","object":"chat.completion.chunk","created":1741570300,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_paris","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-tc1","object":"chat.completion.chunk","created":1741570300,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"lo"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-tc1","object":"chat.completion.chunk","created":1741570300,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"cation\": \"Pa"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-tc1","object":"chat.completion.chunk","created":1741570300,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ris, France\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-tc1","object":"chat.completion.chunk","created":1741570300,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_tokyo","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-tc1","object":"chat.completion.chunk","created":1741570300,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"location\":"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-tc1","object":"chat.completion.chunk","created":1741570300,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":" \"東京\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-tc1","object":"chat.completion.chunk","created":1741570300,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}

            data: {"id":"chatcmpl-tc1","object":"chat.completion.chunk","created":1741570300,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[],"usage":{"prompt_tokens":80,"completion_tokens":48,"total_tokens":128}}

            data: [DONE]
            """#)
        fixture.toolCalls = [
            ToolCallDelta(index: 0, id: "call_paris", name: "get_weather", arguments: #"{"location": "Paris, France"}"#),
            ToolCallDelta(index: 1, id: "call_tokyo", name: "get_weather", arguments: #"{"location": "東京"}"#),
        ]
        fixture.finishReason = "tool_calls"
        fixture.usage = Usage(promptTokens: 80, completionTokens: 48, totalTokens: 128)
        fixture.model = "gpt-4o-mini-2024-07-18"
        return fixture
    }()

    /// Azure opens with a chunk that has no choices, an empty model and prompt filter results.
    static let azure: StreamFixture = {
        var fixture = StreamFixture(
            "Azure OpenAI with prompt filter chunk",
            #"""
            data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}

            data: {"choices":[{"content_filter_results":{},"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1741570400,"id":"chatcmpl-az","model":"gpt-4o-2024-05-13","object":"chat.completion.chunk","system_fingerprint":"fp_67802d9a6d"}

            data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hi"},"finish_reason":null,"index":0,"logprobs":null}],"created":1741570400,"id":"chatcmpl-az","model":"gpt-4o-2024-05-13","object":"chat.completion.chunk","system_fingerprint":"fp_67802d9a6d"}

            data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],"created":1741570400,"id":"chatcmpl-az","model":"gpt-4o-2024-05-13","object":"chat.completion.chunk","system_fingerprint":"fp_67802d9a6d"}

            data: [DONE]
            """#)
        fixture.text = "Hi"
        fixture.finishReason = "stop"
        fixture.model = "gpt-4o-2024-05-13"
        return fixture
    }()

    /// Every framing feature at once: BOM, comment, `id:`/`event:`/`retry:`, `data:` without its
    /// space, one JSON chunk spread over several data lines, a bare `data` field and an unknown
    /// field without a colon, and no `[DONE]` (the server just closes).
    static func framing(lineEnding: String, name: String) -> StreamFixture {
        var fixture = StreamFixture(
            "framing with \(name) line ends",
            "\u{FEFF}"
                + #"""
                : stream opened
                retry: 3000

                id: 1
                event: message
                data:{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",
                data: "choices":[{"index":0,
                data
                data:   "delta":{"content":"line one\nline two"},"finish_reason":null}]}

                id: 2
                unknownfield
                data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" – ünïcödé"},"finish_reason":"length"}]}
                """#,
            lineEnding: lineEnding)
        fixture.text = "line one\nline two – ünïcödé"
        fixture.finishReason = "length"
        fixture.model = "m"
        fixture.endsWithDone = false
        return fixture
    }
}
