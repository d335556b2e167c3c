import BridgeCore
import OpenAIWire
import Testing

@Suite("ChatChunkEncoder")
struct ChatChunkEncoderTests {
    private let uid = "u-1"

    private func event(_ seq: Int, _ kind: StreamEvent.Kind) -> StreamEvent {
        StreamEvent(uid: uid, seq: seq, kind: kind)
    }

    private var events: [StreamEvent] {
        let usage = Usage(promptTokens: 9, completionTokens: 7, details: JSONObject([("prompt_cache_hit_tokens", 4)]))
        return [
            event(1, .start(epoch: "E", model: "qwen3:8b")),
            event(2, .reasoning(text: "think \"hard\"")),
            event(3, .delta(text: "Hel")),
            event(4, .delta(text: "lo\n👋")),
            event(5, .toolCall(ToolCallDelta(index: 0, id: "call_1", name: "f", arguments: #"{"a""#))),
            event(6, .toolCall(ToolCallDelta(index: 0, arguments: ":1}"))),
            event(7, .done(finishReason: "tool_calls", usage: usage)),
        ]
    }

    @Test("each chunk has the fixed header and one choice")
    func header() throws {
        var encoder = ChatChunkEncoder(uid: uid, includeUsage: false, created: 1_700_000_000)
        let payloads = events.flatMap { encoder.encode($0) }
        #expect(payloads.count == 7)
        for payload in payloads {
            #expect(!payload.contains(UInt8(ascii: "\n")))
            let chunk = try parseObject(payload)
            #expect(chunk["id"] == "chatcmpl-u-1")
            #expect(chunk["object"] == "chat.completion.chunk")
            #expect(chunk["created"] == 1_700_000_000)
            #expect(chunk["model"] == "qwen3:8b")
            #expect(chunk["choices"]?.arrayValue?.count == 1)
            #expect(chunk["choices"]?.arrayValue?.first?["index"] == 0)
        }
        let first = try parseObject(payloads[0])["choices"]?.arrayValue?.first
        #expect(first?["delta"] == ["role": "assistant", "content": ""])
        #expect(first?["finish_reason"] == .null)
        let reasoning = try parseObject(payloads[1])["choices"]?.arrayValue?.first?["delta"]
        #expect(reasoning == ["reasoning_content": "think \"hard\""])
        let last = try parseObject(payloads[6])["choices"]?.arrayValue?.first
        #expect(last?["delta"] == [:])
        #expect(last?["finish_reason"] == "tool_calls")
    }

    @Test("tool call pieces carry id, type and name only when they have them")
    func toolCalls() throws {
        var encoder = ChatChunkEncoder(uid: uid, created: 1)
        let first = try parseObject(encoder.encode(events[4])[0])["choices"]?.arrayValue?.first?["delta"]
        #expect(
            first?["tool_calls"]
                == [["index": 0, "id": "call_1", "type": "function", "function": ["name": "f", "arguments": #"{"a""#]]])
        let later = try parseObject(encoder.encode(events[5])[0])["choices"]?.arrayValue?.first?["delta"]
        #expect(later?["tool_calls"] == [["index": 0, "function": ["arguments": ":1}"]]])
    }

    @Test("with include_usage, done is followed by a usage chunk with no choices")
    func usageChunk() throws {
        var encoder = ChatChunkEncoder(uid: uid, model: "m", includeUsage: true, created: 1)
        let payloads = encoder.encode(events[6])
        #expect(payloads.count == 2)
        let usage = try parseObject(payloads[1])
        #expect(usage["choices"] == [])
        #expect(usage["usage"] == ["prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16, "prompt_cache_hit_tokens": 4])
        let unknown = encoder.encode(event(2, .done(finishReason: "stop", usage: nil)))
        #expect(try parseObject(unknown[1])["usage"]?["total_tokens"] == 0)
    }

    @Test("errors and cancellation become OpenAI error objects")
    func errors() throws {
        var encoder = ChatChunkEncoder(uid: uid, created: 1)
        let failure = StreamFailure(code: .upstreamTimeout, message: "no token for 30s")
        let error = try parseObject(encoder.encode(event(3, .error(failure)))[0])
        #expect(error["error"] == ["message": "no token for 30s", "type": "upstream_error", "param": nil, "code": "upstream_timeout"])
        let cancelled = try parseObject(encoder.encode(event(3, .cancelled))[0])
        #expect(cancelled["error"]?["code"] == "cancelled")
        #expect(cancelled["error"]?["message"]?.stringValue?.isEmpty == false)
    }

    @Test("framed chunks decode back to the same answer")
    func roundTrip() throws {
        var encoder = ChatChunkEncoder(uid: uid, includeUsage: true, created: 1)
        var wire: [UInt8] = []
        for event in events {
            for payload in encoder.encode(event) { wire += SSEFrame.data(payload) }
        }
        wire += SSEFrame.done
        let run = decodeStream([wire])
        #expect(run.failure == nil)
        #expect(run.isDone)
        let answer = Assembled(run.outputs)
        #expect(answer.text == "Hello\n👋")
        #expect(answer.reasoning == "think \"hard\"")
        #expect(answer.toolCalls == [ToolCallDelta(index: 0, id: "call_1", name: "f", arguments: #"{"a":1}"#)])
        #expect(answer.finishReason == "tool_calls")
        #expect(answer.usage == Usage(promptTokens: 9, completionTokens: 7, details: JSONObject([("prompt_cache_hit_tokens", 4)])))

        var failing = ChatChunkEncoder(uid: uid, created: 1)
        let error = failing.encode(event(2, .error(StreamFailure(code: .internalError, message: "boom"))))[0]
        #expect(decodeStream([SSEFrame.data(error)]).failure == StreamFailure(code: .upstreamError, message: "boom"))
    }
}
