import BridgeCore
import Synchronization
import Testing
@testable import SimulatedModel

@Test func zbench() async {
    let clock = ContinuousClock()
    var t = clock.now
    let m = SimulatedModel(configuration: .init(tokens: 100_000, tokensPerSecond: 0))
    _ = m.plan(for: request(), model: "m")
    print("plan 100k:", clock.now - t)
    t = clock.now
    for i in 0..<1000 { _ = SimulatedModel().plan(for: request("p\(i)"), model: "m") }
    print("plan 1000x120:", clock.now - t)
    for (rate, n) in [(100.0, 10000), (0, 2000)] {
    let client = SimulatedLLMClient(configuration: .init(tokens: 100, tokensPerSecond: rate))
    let finished = Atomic<Int>(0)
    let receivers = (0..<n).map { _ in RecordingReceiver { finished.wrappingAdd(1, ordering: .relaxed) } }
    t = clock.now
    for (i, r) in receivers.enumerated() { _ = client.start(upstream(request("P \(i)")), receiver: r) }
    print("start \(n):", clock.now - t)
    _ = await eventually(within: 60) { finished.load(ordering: .relaxed) == n }
    print("\(n) x 100 @\(rate):", clock.now - t, receivers.allSatisfy { $0.tokenCount == 100 })
    }
}
