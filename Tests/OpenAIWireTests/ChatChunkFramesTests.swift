import BridgeCore
import Testing

@testable import OpenAIWire

@Suite("ChatChunkEncoder frames fast path")
struct ChatChunkFramesTests {
    /// The fast path must give byte for byte what framing `encode(_:)`'s payloads gives.
    @Test func framesEqualFramedPayloadsForEveryKind() {
        let texts = ["Hel", "", "quote \" slash \\ newline \n tab \t ctl \u{01}", "é😀", String(repeating: "x", count: 5000)]
        var kinds: [StreamEvent.Kind] = [.start(epoch: "e", model: "model-a")]
        for text in texts { kinds += [.delta(text: text), .reasoning(text: text)] }
        kinds += [
            .start(epoch: "f", model: "model-b"), .delta(text: "after a model change"),
            .toolCall(ToolCallDelta(index: 0, id: "c1", name: "f", arguments: "{\"a")),
            .done(finishReason: "stop", usage: Usage(promptTokens: 1, completionTokens: 2)),
            .error(StreamFailure(code: .upstreamTimeout, message: "slow")), .cancelled,
        ]
        for includeUsage in [false, true] {
            var fast = ChatChunkEncoder(uid: "u", model: "m", includeUsage: includeUsage, created: 7)
            var reference = ChatChunkEncoder(uid: "u", model: "m", includeUsage: includeUsage, created: 7)
            var run = ChatChunkEncoder(uid: "u", model: "m", includeUsage: includeUsage, created: 7)
            var expectedRun: [UInt8] = []
            var appended: [UInt8] = []
            for (seq, kind) in kinds.enumerated() {
                let event = StreamEvent(uid: "u", seq: seq + 1, kind: kind)
                let expected = reference.encode(event).flatMap(SSEFrame.data)
                #expect(fast.frames(for: event) == expected, "\(kind)")
                expectedRun += expected
                run.appendFrames(for: event, to: &appended)
            }
            #expect(appended == expectedRun, "a run appended to one buffer is the frames one after another")
        }
    }
}
