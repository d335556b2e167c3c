import Logging
import Synchronization
import Testing

@testable import BridgeCore

@Suite("Pipeline: completions, deadlines, capacity")
struct PipelineLifecycleTests {
    @Test func theJournalTellsHowRecentStreamsEnded() throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, logger: testLogger)
        let done = try pipeline.start(chat(uid: "done-1"), sinks: [])
        model.last?.receiver.llmDidFinish(nil)
        _ = try pipeline.start(chat(uid: "cancelled-1"), sinks: [])
        pipeline.cancel(uid: "cancelled-1")

        #expect(pipeline.journal.result(of: "done-1")?.epoch == done.epoch)
        #expect(pipeline.journal.result(of: "done-1")?.status == .done)
        #expect(pipeline.journal.result(of: "cancelled-1")?.status == .cancelled)
        #expect(pipeline.journal.result(of: "never") == nil)
    }

    @Test func zeroRetentionKeepsNoFinishedStream() throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, configuration: .init(retention: .zero), logger: testLogger)
        _ = try pipeline.start(chat(uid: "u"), sinks: [])
        model.last?.receiver.llmDidFinish(nil)
        #expect(pipeline.journal.result(of: "u") == nil)
    }

    @Test func completedStreamsExpireAndStayBounded() {
        var completed = CompletedStreams(retention: .seconds(10), capacity: 3)
        let start = ContinuousClock.now
        for index in 0..<5 {
            completed.record(uid: "u\(index)", StreamCompletion(epoch: "e", at: start + .seconds(index)))
        }
        #expect(completed.count == 3)
        #expect(completed.lookup("u0", now: start + .seconds(5)) == nil)
        #expect(completed.lookup("u4", now: start + .seconds(5)) != nil)
        #expect(completed.lookup("u2", now: start + .seconds(12)) == nil, "ten seconds after it ended")
        #expect(completed.lookup("u4", now: start + .seconds(12)) != nil)
        // A uid recorded again keeps its newer completion when the older slot expires.
        completed.record(uid: "u4", StreamCompletion(epoch: "later", at: start + .seconds(13)))
        #expect(completed.lookup("u4", now: start + .seconds(15))?.epoch == "later")
    }

    @Test func completedStreamsTellUIDsApart() {
        // Kept as digests: near and long uids are still told apart, and each finds its own.
        var completed = CompletedStreams(retention: .seconds(60), capacity: 10_000)
        let now = ContinuousClock.now
        let uids = (0..<5000).map { "uid-\($0)" } + ["a", "b", "ab", "ba", String(repeating: "x", count: 128), String(repeating: "x", count: 127) + "y"]
        for (index, uid) in uids.enumerated() {
            completed.record(uid: uid, StreamCompletion(epoch: "e\(index)", at: now))
        }
        #expect(completed.count == uids.count)
        for (index, uid) in uids.enumerated() {
            #expect(completed.lookup(uid, now: now)?.epoch == "e\(index)")
        }
        #expect(completed.lookup("uid-5000", now: now) == nil)
        #expect(completed.lookup("", now: now) == nil)
    }

    @Test func aStreamPastItsDeadlineEndsWithDeadlineExceeded() async throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, logger: testLogger)
        let sink = RecordingSink()
        _ = try pipeline.start(chat(uid: "slow"), sinks: [sink], deadline: .now + .milliseconds(100))
        _ = try pipeline.start(chat(uid: "free"), sinks: [], deadline: nil)
        let ended = await waitFor { sink.all.last?.isTerminal == true }
        #expect(ended)
        guard case .error(let failure) = sink.all.last?.kind else {
            Issue.record("expected an error, got \(String(describing: sink.all.last))")
            return
        }
        #expect(failure.code == .deadlineExceeded)
        #expect(model.calls.withLock { $0[0].cancelled.load(ordering: .relaxed) })
        #expect(pipeline.run(uid: "free") != nil, "a stream without a deadline runs on")
    }

    @Test func capacityObserversHearWhenASlotFrees() throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, configuration: .init(maxConcurrentStreams: 1), logger: testLogger)
        let freed = Atomic<Int>(0)
        pipeline.observeCapacity { freed.add(1, ordering: .relaxed) }
        _ = try pipeline.start(chat(uid: "a"), sinks: [])
        #expect(throws: RequestError.self) { try pipeline.start(chat(uid: "b"), sinks: []) }
        model.last?.receiver.llmDidFinish(nil)
        #expect(freed.load(ordering: .relaxed) == 1)
        _ = try pipeline.start(chat(uid: "b"), sinks: [])
    }

    @Test func drainingInTwoStepsLetsTheCallerActBetween() async throws {
        let model = ScriptedModel()
        let pipeline = Pipeline(client: model, logger: testLogger)
        let sink = RecordingSink()
        _ = try pipeline.start(chat(uid: "long"), sinks: [sink])
        await pipeline.waitUntilIdle(grace: .milliseconds(50))
        #expect(pipeline.activeCount == 1, "the grace period ended with the stream still running")
        #expect(throws: RequestError.self) { try pipeline.start(chat(uid: "late"), sinks: []) }
        pipeline.failRemaining(StreamFailure(code: .shutdown, message: "bye"))
        #expect(pipeline.activeCount == 0)
        #expect(sink.all.last?.type == "error")
    }
}

/// Polls `condition` every 10 ms for up to 5 s.
func waitFor(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<500 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

@Suite("A stream cancelled before it began")
struct EarlyCancelTests {
    @Test func itStillOpensWithStartAndTheModelIsNeverCalled() {
        let sink = RecordingSink()
        let run = StreamRun(uid: "early", model: "m", sinks: [sink], logger: Logger(label: "test")) { _, _ in }
        run.cancel()
        #expect(sink.all.isEmpty, "nothing before start")
        let model = ScriptedModel()
        run.begin(client: model, request: UpstreamRequest(body: JSONObject(), model: "m", uid: "early"))
        #expect(sink.all.map(\.type) == ["start", "cancelled"] && sink.all.map(\.seq) == [1, 2])
        #expect(model.calls.withLock { $0.isEmpty } && run.isFinished)
    }
}
