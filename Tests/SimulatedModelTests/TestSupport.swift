import BridgeCore
import Dispatch
import Synchronization

@testable import SimulatedModel

/// Records what a simulated call delivers, and lets a test await its end.
final class RecordingReceiver: LLMReceiver {
    private struct State {
        var outputs: [LLMOutput] = []
        var finishes: [StreamFailure?] = []
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let onFinish: (@Sendable () -> Void)?

    init(onFinish: (@Sendable () -> Void)? = nil) {
        self.onFinish = onFinish
    }

    var outputs: [LLMOutput] { state.withLock { $0.outputs } }
    var outputCount: Int { state.withLock { $0.outputs.count } }
    var finishes: [StreamFailure?] { state.withLock { $0.finishes } }
    var tokenCount: Int {
        outputs.filter {
            switch $0 {
            case .text, .reasoning: return true
            default: return false
            }
        }.count
    }

    func llmDidProduce(_ output: LLMOutput) {
        state.withLock { $0.outputs.append(output) }
    }

    func llmDidFinish(_ failure: StreamFailure?) {
        let waiters = state.withLock { state in
            state.finishes.append(failure)
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
        onFinish?()
    }

    /// Returns once the call finished.
    func finished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if !state.finishes.isEmpty { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// Polls `condition` until it holds or `seconds` pass; true when it held.
func eventually(within seconds: Double = 60, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

func request(_ prompt: String = "Explain backpressure.", _ extra: [(String, JSONValue)] = []) -> JSONObject {
    var body = JSONObject([
        (key: "model", value: "m"),
        (key: "messages", value: [["role": "user", "content": .string(prompt)]]),
    ])
    for (key, value) in extra { body[key] = value }
    return body
}

func upstream(_ body: JSONObject) -> UpstreamRequest {
    UpstreamRequest(body: body, model: "tokenbridge-simulated", uid: "test")
}

extension SimulatedAnswer {
    var textPieces: [String] {
        outputs.compactMap { if case .text(let piece) = $0 { piece } else { nil } }
    }

    var reasoningPieces: [String] {
        outputs.compactMap { if case .reasoning(let piece) = $0 { piece } else { nil } }
    }
}
