import BridgeCore
import Dispatch
import Synchronization

/// Blocks in its `gateAt`-th delivery until the test opens the gate (or 120 s pass: long enough
/// that a test whose task waits behind others' on a busy pool still finds it shut).
final class GatedReceiver: LLMReceiver {
    private let gate: DispatchSemaphore
    private let gateAt: Int
    private let state = Mutex((count: 0, passedGate: false, finished: false))

    init(gate: DispatchSemaphore, gateAt: Int = 1) {
        self.gate = gate
        self.gateAt = gateAt
    }

    var count: Int { state.withLock { $0.count } }
    var passedGate: Bool { state.withLock { $0.passedGate } }
    var finished: Bool { state.withLock { $0.finished } }

    func llmDidProduce(_ output: LLMOutput) {
        let count = state.withLock { state in
            state.count += 1
            return state.count
        }
        if count == gateAt {
            _ = gate.wait(timeout: .now() + .seconds(120))
            state.withLock { $0.passedGate = true }
        }
    }

    func llmDidFinish(_ failure: StreamFailure?) {
        state.withLock { $0.finished = true }
    }
}

/// Cancels its own call from inside its `after`-th delivery.
final class SelfCancellingReceiver: LLMReceiver {
    let call = Mutex<(any LLMCall)?>(nil)
    let count = Atomic<Int>(0)
    private let after: Int

    init(after: Int) {
        self.after = after
    }

    func llmDidProduce(_ output: LLMOutput) {
        if count.wrappingAdd(1, ordering: .relaxed).newValue == after {
            call.withLock { $0 }?.cancel()
        }
    }

    func llmDidFinish(_ failure: StreamFailure?) {}
}
