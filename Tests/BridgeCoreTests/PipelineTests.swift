import Foundation
import Testing

@testable import BridgeCore

@Suite("Pipeline")
struct PipelineTests {
    @Test func numbersEventsAndEndsOnce() throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, logger: testLogger)
        let sink = RecordingSink()
        let run = try pipeline.start(chat(uid: "u1"), sinks: [sink])
        let receiver = try #require(model.last?.receiver)
        receiver.llmDidProduce(.text("Hel"))
        receiver.llmDidProduce(.reasoning("hmm"))
        receiver.llmDidProduce(.text(""))
        receiver.llmDidProduce(.finishReason("stop"))
        receiver.llmDidProduce(.usage(Usage(promptTokens: 3, completionTokens: 2)))
        receiver.llmDidFinish(nil)
        receiver.llmDidFinish(StreamFailure(code: .internalError, message: "late"))
        let events = sink.all
        #expect(events.map(\.seq) == [1, 2, 3, 4])
        #expect(events.map(\.type) == ["start", "delta", "reasoning", "done"])
        guard case .start(let epoch, _) = events[0].kind else { Issue.record("no start"); return }
        #expect(epoch == run.epoch)
        #expect(events[3].kind == .done(finishReason: "stop", usage: Usage(promptTokens: 3, completionTokens: 2)))
        #expect(pipeline.activeCount == 0)
    }

    @Test func outputsReadTogetherReachTheSinksTogetherAsTheyWouldOneByOne() throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, logger: testLogger)
        let single = RecordingSink()
        let batched = BatchRecordingSink()
        _ = try pipeline.start(chat(uid: "batch"), sinks: [single, batched])
        let receiver = try #require(model.last?.receiver)
        receiver.llmDidProduce(contentsOf: [.text("a"), .text(""), .reasoning("r"), .text("b"), .finishReason("length")])
        receiver.llmDidProduce(contentsOf: [.text("c")])
        receiver.llmDidProduce(contentsOf: [])
        receiver.llmDidFinish(nil)
        let batches = batched.all
        #expect(batches.map { $0.map(\.seq) } == [[1], [2, 3, 4], [5], [6]], "start, the first read's three events, the second's, done")
        #expect(single.all.map(\.seq) == [1, 2, 3, 4, 5, 6])
        #expect(single.all.map(\.type) == ["start", "delta", "reasoning", "delta", "delta", "done"])
        #expect(single.all.last?.kind == .done(finishReason: "length", usage: nil))
        #expect(batches.flatMap { $0 }.map { $0.jsonBytes() } == single.all.map { $0.jsonBytes() })
    }

    @Test func cancelEndsWithCancelledAndAbortsTheModel() throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, logger: testLogger)
        let sink = RecordingSink()
        _ = try pipeline.start(chat(uid: "u2"), sinks: [sink])
        let call = try #require(model.last)
        call.receiver.llmDidProduce(.text("a"))
        #expect(pipeline.cancel(uid: "u2"))
        call.receiver.llmDidProduce(.text("after"))
        call.receiver.llmDidFinish(nil)
        let cancelled = call.cancelled.load(ordering: .relaxed)
        #expect(cancelled)
        #expect(sink.all.map(\.type) == ["start", "delta", "cancelled"])
        #expect(!pipeline.cancel(uid: "u2"))
    }

    @Test func failureEndsWithError() throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, logger: testLogger)
        let sink = RecordingSink()
        _ = try pipeline.start(chat(), sinks: [sink])
        let failure = StreamFailure(code: .upstreamTimeout, message: "slow", upstreamStatus: nil)
        model.last?.receiver.llmDidFinish(failure)
        #expect(sink.all.last?.kind == .error(failure))
        #expect(sink.all.last?.isTerminal == true)
        let json = String(decoding: sink.all.last?.jsonBytes() ?? [], as: UTF8.self)
        #expect(json.contains(#""code":"upstream_timeout""#))
        #expect(json.contains(#""done":true"#))
    }

    @Test func boundsConcurrencyAndRefusesDuplicates() throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, configuration: .init(maxConcurrentStreams: 2), logger: testLogger)
        _ = try pipeline.start(chat(uid: "a"), sinks: [])
        do {
            _ = try pipeline.start(chat(uid: "a"), sinks: [])
            Issue.record("a second stream with the same uid was admitted")
        } catch {
            #expect(error.kind == .conflict)
        }
        _ = try pipeline.start(chat(uid: "b"), sinks: [])
        do {
            _ = try pipeline.start(chat(uid: "c"), sinks: [])
            Issue.record("third stream admitted over the limit")
        } catch {
            #expect(error.kind == .overloaded)
        }
        model.calls.withLock { $0[0] }.receiver.llmDidFinish(nil)
        _ = try pipeline.start(chat(uid: "c"), sinks: [])
    }

    @Test func usesConfiguredModelWhenAbsentOrForced() throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, configuration: .init(defaultModel: "dflt"), logger: testLogger)
        _ = try pipeline.start(chat(model: nil), sinks: [])
        #expect(model.last?.request.model == "dflt")
        _ = try pipeline.start(chat(model: "mine"), sinks: [])
        #expect(model.last?.request.model == "mine")
        let forced = Pipeline(client: model, configuration: .init(defaultModel: "dflt", forceModel: true), logger: testLogger)
        _ = try forced.start(chat(model: "mine"), sinks: [])
        #expect(model.last?.request.model == "dflt")
    }

    @Test func drainEndsStuckStreamsWithShutdownError() async throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, logger: testLogger)
        let sink = RecordingSink()
        _ = try pipeline.start(chat(uid: "stuck"), sinks: [sink])
        await pipeline.drain(grace: .milliseconds(50))
        #expect(sink.all.last?.type == "error")
        if case .error(let failure) = sink.all.last?.kind { #expect(failure.code == .shutdown) }
        #expect(pipeline.activeCount == 0)
        #expect(throws: RequestError.self) { _ = try pipeline.start(chat(), sinks: []) }
    }

    @Test func drainReturnsAsSoonAsStreamsFinish() async throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, logger: testLogger)
        let sink = RecordingSink()
        _ = try pipeline.start(chat(uid: "quick"), sinks: [sink])
        let receiver = try #require(model.last?.receiver)
        Task.detached { receiver.llmDidFinish(nil) }
        await pipeline.drain(grace: .seconds(600))
        #expect(sink.all.last?.type == "done")
    }

    @Test func raceBetweenCancelAndTokensYieldsOneTerminal() throws {
        for round in 0..<200 {
            let model = ScriptedModel()
            let pipeline = Pipeline(client: model, logger: testLogger)
            let sink = RecordingSink()
            let run = try pipeline.start(chat(uid: "r\(round)"), sinks: [sink])
            let receiver = try #require(model.last?.receiver)
            DispatchQueue.concurrentPerform(iterations: 3) { worker in
                switch worker {
                case 0: for _ in 0..<50 { receiver.llmDidProduce(.text("t")) }; receiver.llmDidFinish(nil)
                case 1: run.cancel()
                default: run.fail(StreamFailure(code: .internalError, message: "x"))
                }
            }
            let events = sink.all
            #expect(events.filter(\.isTerminal).count == 1)
            #expect(events.last?.isTerminal == true)
            #expect(events.map(\.seq) == Array(1...events.count))
        }
    }
}

@Suite("Stream run lifetime")
struct StreamRunLifetimeTests {
    /// A finished run must not be kept alive by its model call (which holds it as receiver).
    @Test func finishedRunIsReleased() throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, logger: testLogger)
        weak var weakRun: StreamRun?
        do {
            let run = try pipeline.start(chat(uid: "leak"), sinks: [RecordingSink()])
            weakRun = run
            run.llmDidFinish(nil)
        }
        // The scripted model keeps its calls (and through them the receivers) in its log: drop it.
        model.calls.withLock { $0.removeAll() }
        #expect(weakRun == nil)
    }
}
