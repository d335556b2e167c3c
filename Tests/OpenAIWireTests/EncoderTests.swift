import BridgeCore
import OpenAIWire
import Testing

@Suite("Whole-body encoders and SSE framing")
struct EncoderTests {
    @Test("chat.completion carries text, reasoning, tool calls, finish reason and usage")
    func completion() throws {
        var result = StreamResult(uid: "abc")
        result.apply(StreamEvent(uid: "abc", seq: 1, kind: .start(epoch: "E", model: "deepseek-reasoner")))
        result.apply(StreamEvent(uid: "abc", seq: 2, kind: .reasoning(text: "because")))
        result.apply(StreamEvent(uid: "abc", seq: 3, kind: .delta(text: "Hi \"there\"")))
        result.apply(StreamEvent(uid: "abc", seq: 4, kind: .done(finishReason: "stop", usage: Usage(promptTokens: 2, completionTokens: 3))))
        let body = try parseObject(ChatCompletionEncoder.encode(result, created: 42))
        #expect(body["id"] == "chatcmpl-abc")
        #expect(body["object"] == "chat.completion")
        #expect(body["created"] == 42)
        #expect(body["model"] == "deepseek-reasoner")
        let choice = body["choices"]?.arrayValue?.first
        #expect(choice?["index"] == 0)
        #expect(choice?["finish_reason"] == "stop")
        #expect(choice?["message"] == ["role": "assistant", "content": "Hi \"there\"", "reasoning_content": "because"])
        #expect(body["usage"] == ["prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5])
    }

    @Test("a tool-call answer has null content and typed calls; missing ids are invented")
    func completionWithTools() throws {
        var result = StreamResult(uid: "t")
        result.apply(StreamEvent(uid: "t", seq: 1, kind: .toolCall(ToolCallDelta(index: 1, name: "g", arguments: "{}"))))
        result.apply(StreamEvent(uid: "t", seq: 2, kind: .toolCall(ToolCallDelta(index: 0, id: "call_f", name: "f", arguments: "{\"a\":"))))
        result.apply(StreamEvent(uid: "t", seq: 3, kind: .toolCall(ToolCallDelta(index: 0, arguments: "1}"))))
        let message = try parseObject(ChatCompletionEncoder.encode(result, created: 1))["choices"]?.arrayValue?.first?["message"]
        #expect(message?["content"] == .null)
        #expect(message?["reasoning_content"] == nil)
        #expect(
            message?["tool_calls"] == [
                ["id": "call_f", "type": "function", "function": ["name": "f", "arguments": "{\"a\":1}"]],
                ["id": "call_t_1", "type": "function", "function": ["name": "g", "arguments": "{}"]],
            ])
        let choice = try parseObject(ChatCompletionEncoder.encode(result, created: 1))["choices"]?.arrayValue?.first
        #expect(choice?["finish_reason"] == "tool_calls")
    }

    @Test("model list")
    func models() throws {
        let body = try parseObject(ModelListEncoder.encode(["a", "b"], ownedBy: "me", created: 7))
        #expect(body["object"] == "list")
        #expect(
            body["data"] == [
                ["id": "a", "object": "model", "created": 7, "owned_by": "me"],
                ["id": "b", "object": "model", "created": 7, "owned_by": "me"],
            ])
    }

    @Test("OpenAI error bodies, from fields and from a RequestError")
    func errors() throws {
        let plain = try parseObject(OpenAIErrorEncoder.encode(message: "bad \"x\"", type: "invalid_request_error", param: "x", code: "invalid_type"))
        #expect(plain["error"] == ["message": "bad \"x\"", "type": "invalid_request_error", "param": "x", "code": "invalid_type"])
        let overloaded = try parseObject(OpenAIErrorEncoder.encode(RequestError(.overloaded, "busy", code: "too_many_streams")))
        #expect(overloaded["error"] == ["message": "busy", "type": "rate_limit_error", "param": nil, "code": "too_many_streams"])
        #expect(UpstreamErrorBody(bytes: OpenAIErrorEncoder.encode(message: "m", type: "t", code: "c")) == UpstreamErrorBody(message: "m", type: "t", code: "c"))
    }

    @Test("framing: data, [DONE], multi-line messages and comments decode back")
    func framing() throws {
        #expect(SSEFrame.data(Array("{}".utf8)).text == "data: {}\n\n")
        #expect(SSEFrame.done.text == "data: [DONE]\n\n")
        #expect(SSEFrame.comment("ping").text == ":ping\n")
        let frame = SSEFrame.message(data: "one\ntwo\r\nthree\rfour", event: "delta", id: "12")
        #expect(frame.text == "id: 12\nevent: delta\ndata: one\ndata: two\ndata: three\ndata: four\n\n")
        var decoder = SSEDecoder()
        let messages = try decoder.feed(SSEFrame.comment() + frame)
        #expect(messages == [SSEMessage(event: "delta", data: "one\ntwo\nthree\nfour", id: "12")])
        #expect(decoder.commentCount == 1)
    }
}
