import BridgeCore
import OpenAIWire
import Testing

@testable import Bench

@Suite("Path bench")
struct PathBenchTests {
    /// The recorded answer is what the bridge would get from the mock: read at any read size, it
    /// decodes to every token, the finish reason and the usage, then [DONE].
    @Test func theRecordedAnswerDecodesToEveryToken() throws {
        let bytes = PathBench.upstreamBytes(prompt: "Benchmark prompt 3", tokens: 100)
        for readSize in [1, 7, 3072, bytes.count] {
            var decoder = ChatStreamDecoder()
            var outputs: [LLMOutput] = []
            for read in PathBench.split(bytes, every: readSize) {
                try read.withUnsafeBytes { try decoder.feed($0, into: &outputs) }
            }
            let texts = outputs.filter { if case .text = $0 { return true } else { return false } }
            #expect(texts.count == 100, "read size \(readSize)")
            #expect(outputs.contains(.finishReason("stop")))
            #expect(outputs.contains { if case .usage(let usage) = $0 { return usage.completionTokens == 100 } else { return false } })
            #expect(decoder.chunks.isDone)
            #expect(PathBench.split(bytes, every: readSize).reduce(0) { $0 + $1.count } == bytes.count)
        }
    }

    /// Every answer goes all the way to the caller's SSE: [DONE] on each, a frame per token.
    @Test func thePipelineStageEncodesEveryAnswer() {
        let bytes = PathBench.upstreamBytes(prompt: "Benchmark prompt 0", tokens: 30)
        let encoded = PathBench.throughPipeline([PathBench.split(bytes, every: 256)], answers: 10)
        // The bridge's frames are about the mock's, whose id and model differ only a little.
        #expect(encoded > bytes.count * 10 * 9 / 10)
        #expect(encoded < bytes.count * 10 * 11 / 10)
    }

    @Test func everyStageReportsEveryRound() {
        let stages = PathBench.run(.init(tokens: 20, answers: 50, rounds: 3, readSize: 512))
        #expect(stages.count == 2)
        #expect(stages.allSatisfy { $0.nanosecondsPerToken.count == 3 && $0.best > 0 && $0.median >= $0.best })
    }
}
