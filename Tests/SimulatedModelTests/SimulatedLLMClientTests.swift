import BridgeCore
import Dispatch
import Synchronization
import Testing

@testable import SimulatedModel

@Suite("SimulatedLLMClient")
struct SimulatedLLMClientTests {
    let configuration = SimulatedModel.Configuration(tokens: 40, tokensPerSecond: 0)

    @Test func deliversExactlyThePlannedOutputsThenOneFinish() async {
        let pacer = StreamPacer(name: "test.exact")
        let client = SimulatedLLMClient(configuration: configuration, pacer: pacer)
        let body = request("Plan?", [("mock", ["tokens": 300, "reasoning": true])])
        let receiver = RecordingReceiver()
        _ = client.start(upstream(body), receiver: receiver)
        await receiver.finished()
        let planned = client.model.plan(for: body, model: "tokenbridge-simulated")
        #expect(receiver.outputs == planned.outputs)
        #expect(receiver.tokenCount == 330)
        #expect(await eventually { !pacer.isThreadRunning })
        #expect(receiver.finishes == [nil])
    }

    @Test func stampedTokensCarryTheirSendTime() async {
        let before = DispatchTime.now().uptimeNanoseconds
        let receiver = RecordingReceiver()
        _ = SimulatedLLMClient(configuration: configuration)
            .start(upstream(request("x", [("mock", ["tokens": 5, "stamp": true])])), receiver: receiver)
        await receiver.finished()
        let after = DispatchTime.now().uptimeNanoseconds
        let stamps = receiver.outputs.compactMap { output -> UInt64? in
            guard case .text(let text) = output else { return nil }
            return UInt64(text.dropFirst().dropLast())
        }
        #expect(stamps.count == 5, "every text token is a stamp")
        #expect(stamps.allSatisfy { before <= $0 && $0 <= after })
        #expect(stamps == stamps.sorted())
    }

    @Test func aRequestedFailureEndsTheCallWithIt() async {
        let receiver = RecordingReceiver()
        _ = SimulatedLLMClient(configuration: configuration)
            .start(upstream(request("x", [("mock", ["fail_after": 3])])), receiver: receiver)
        await receiver.finished()
        #expect(receiver.outputCount == 3)
        #expect(receiver.finishes.first??.code == .upstreamDisconnected)
    }

    @Test func pacingHoldsTokensBackToTheRate() async {
        let clock = ContinuousClock()
        let started = clock.now
        let receiver = RecordingReceiver()
        _ = SimulatedLLMClient(configuration: configuration)
            .start(upstream(request("x", [("mock", ["tokens": 20, "rate": 100])])), receiver: receiver)
        await receiver.finished()
        #expect(clock.now - started >= .milliseconds(150), "20 tokens at 100 tokens/s take 200 ms")
        #expect(receiver.tokenCount == 20)
    }

    @Test func firstTokenDelayIsHonoured() async {
        let clock = ContinuousClock()
        let started = clock.now
        let receiver = RecordingReceiver()
        _ = SimulatedLLMClient(configuration: configuration)
            .start(upstream(request("x", [("mock", ["tokens": 5, "delay_ms": 200])])), receiver: receiver)
        await receiver.finished()
        #expect(clock.now - started >= .milliseconds(190))
    }

    @Test func startReturnsBeforeDeliveringEvenUnpaced() async {
        let gate = DispatchSemaphore(value: 0)
        let receiver = GatedReceiver(gate: gate)
        // Its own pacer: a gate held on a shared pacer thread would stall other tests' streams.
        let client = SimulatedLLMClient(configuration: configuration, pacer: StreamPacer(name: "test.gate"))
        let call = client.start(upstream(request()), receiver: receiver)
        // Had `start` delivered on this thread, it would have sat in the gate for 10 s first.
        #expect(!receiver.passedGate)
        gate.signal()
        call.cancel()
    }

    @Test func cancelStopsAPacedStreamAndReleasesIt() async {
        let pacer = StreamPacer(name: "test.cancel")
        let client = SimulatedLLMClient(configuration: configuration, pacer: pacer)
        var receiver: RecordingReceiver? = RecordingReceiver()
        weak let released = receiver
        let call = client.start(upstream(request("x", [("mock", ["tokens": 100_000, "rate": 100])])), receiver: receiver!)
        #expect(await eventually { (receiver?.outputCount ?? 0) >= 5 })
        call.cancel()
        let atCancel = receiver?.outputCount ?? 0
        try? await Task.sleep(for: .milliseconds(200))
        #expect((receiver?.outputCount ?? 0) <= atCancel + 1)
        #expect(receiver?.finishes.isEmpty == true)
        receiver = nil
        #expect(await eventually { released == nil && !pacer.isThreadRunning && pacer.scheduledCount == 0 })
    }

    @Test func cancelStopsAnUnpacedStream() async {
        let gate = DispatchSemaphore(value: 0)
        let receiver = GatedReceiver(gate: gate, gateAt: 50)
        // Its own pacer, so that no other test's stream delays the first 50 outputs and the gate
        // stalls no one else; and a long wait, as the full parallel run can keep this task off the
        // pool's two threads for over 10 s (it once found the gate already timed out).
        let client = SimulatedLLMClient(configuration: configuration, pacer: StreamPacer(name: "test.cancel.unpaced"))
        let call = client.start(upstream(request("x", [("mock", ["tokens": 100_000])])), receiver: receiver)
        #expect(await eventually(within: 60) { receiver.count == 50 })
        call.cancel()
        gate.signal()
        try? await Task.sleep(for: .milliseconds(200))
        #expect(receiver.count == 50 && !receiver.finished)
    }

    @Test func aReceiverMayCancelFromItsOwnCallback() async {
        let receiver = SelfCancellingReceiver(after: 3)
        let call = SimulatedLLMClient(configuration: configuration)
            .start(upstream(request("x", [("mock", ["tokens": 1000, "rate": 500, "delay_ms": 50])])), receiver: receiver)
        receiver.call.withLock { $0 = call }
        #expect(await eventually { receiver.count.load(ordering: .relaxed) >= 3 })
        try? await Task.sleep(for: .milliseconds(100))
        #expect(receiver.count.load(ordering: .relaxed) == 3)
    }

    @Test func thousandConcurrentStreamsAllComplete() async {
        let client = SimulatedLLMClient(configuration: .init(tokens: 20, tokensPerSecond: 50))
        let finished = Atomic<Int>(0)
        let receivers = (0..<1000).map { _ in
            RecordingReceiver { finished.wrappingAdd(1, ordering: .relaxed) }
        }
        for (index, receiver) in receivers.enumerated() {
            _ = client.start(upstream(request("Prompt \(index + 1000)")), receiver: receiver)
        }
        #expect(await eventually(within: 60) { finished.load(ordering: .relaxed) == 1000 })
        #expect(receivers.allSatisfy { $0.tokenCount == 20 && $0.finishes == [nil] })
        #expect(receivers.allSatisfy { $0.outputs.last == .usage(Usage(promptTokens: 3, completionTokens: 20)) })
    }

    @Test func modelsListTheConfiguredNameAndProbeIsHealthy() async throws {
        let client = SimulatedLLMClient(configuration: .init(modelName: "sim-1"))
        #expect(try await client.models().get() == ["sim-1"])
        #expect(await client.probe() == nil)
    }
}
