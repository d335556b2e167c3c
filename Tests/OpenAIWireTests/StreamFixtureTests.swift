import BridgeCore
import OpenAIWire
import Testing

/// Every recorded stream, decoded whole and then cut at every byte boundary and in random ways:
/// a transfer's reads fall anywhere, and the outputs must not depend on where.
@Suite("Recorded upstream streams")
struct StreamFixtureTests {
    @Test("decodes to the expected answer", arguments: StreamFixture.all)
    func decodesWhole(_ fixture: StreamFixture) {
        let run = decodeStream([fixture.wire])
        let answer = Assembled(run.outputs)
        #expect(answer.text == fixture.text)
        #expect(answer.reasoning == fixture.reasoning)
        #expect(answer.toolCalls == fixture.toolCalls)
        #expect(answer.finishReason == fixture.finishReason)
        #expect(answer.usage == fixture.usage)
        #expect(run.failure == fixture.failure)
        #expect(run.isDone == fixture.endsWithDone)
        #expect(run.model == fixture.model)
        // Reasoning never leaks into text, whatever form it came in.
        #expect(!answer.text.contains("<think>") || fixture.text.contains("<think>"))
        #expect(!answer.text.contains("</think>"))
    }

    @Test("gives the same outputs when split at any byte", arguments: StreamFixture.all)
    func splitAtEveryByte(_ fixture: StreamFixture) {
        let whole = decodeStream([fixture.wire])
        for cut in 1..<fixture.wire.count {
            let run = decodeStream(split(fixture.wire, at: [cut]))
            #expect(run == whole, "split at byte \(cut)")
            if run != whole { return }
        }
        let oneByteAtATime = decodeStream(fixture.wire.map { [$0] })
        #expect(oneByteAtATime == whole)
    }

    @Test("gives the same outputs in random chunkings", arguments: StreamFixture.all)
    func randomChunkings(_ fixture: StreamFixture) {
        let whole = decodeStream([fixture.wire])
        var generator = SplitMix64(seed: UInt64(fixture.wire.count))
        for attempt in 0..<200 {
            let cuts = randomCuts(count: fixture.wire.count, using: &generator)
            let run = decodeStream(split(fixture.wire, at: cuts))
            #expect(run == whole, "attempt \(attempt), cuts \(cuts)")
            if run != whole { return }
        }
    }

    @Test("CRLF, CR and LF framings decode to the same messages")
    func lineEndingsAgree() {
        let lf = decodeStream([StreamFixture.framing(lineEnding: "\n", name: "LF").wire])
        let crlf = decodeStream([StreamFixture.framing(lineEnding: "\r\n", name: "CRLF").wire])
        let cr = decodeStream([StreamFixture.framing(lineEnding: "\r", name: "CR").wire])
        #expect(lf.messages.count == 2)
        #expect(lf == crlf)
        #expect(lf == cr)
        #expect(lf.messages.map(\.id) == ["1", "2"])
        #expect(lf.commentCount == 1)
    }

    @Test("keep-alive comments are counted, never decoded")
    func keepAlives() {
        #expect(decodeStream([StreamFixture.deepSeek.wire]).commentCount == 2)
        #expect(decodeStream([StreamFixture.vLLM.wire]).commentCount == 1)
        #expect(decodeStream([StreamFixture.openAI.wire]).commentCount == 0)
    }

    @Test("the first role chunk and the usage-only chunk produce no text")
    func roleAndUsageChunks() throws {
        let run = decodeStream([StreamFixture.openAI.wire])
        #expect(run.messages.count == 7)
        var decoder = ChatChunkDecoder()
        #expect(try decoder.decode(run.messages[0]) == [])
        let usageOnly = try decoder.decode(run.messages[5])
        #expect(usageOnly == [.usage(try #require(StreamFixture.openAI.usage))])
    }
}
