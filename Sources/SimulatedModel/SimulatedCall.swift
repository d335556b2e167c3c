import BridgeCore
import Synchronization

/// One simulated generation as its caller holds it: a cancelled flag the pacer checks before every
/// delivery.
final class SimulatedCall: LLMCall {
    private let cancelled = Atomic<Bool>(false)
    private let pacer: StreamPacer

    init(pacer: StreamPacer) {
        self.pacer = pacer
    }

    var isCancelled: Bool {
        cancelled.load(ordering: .acquiring)
    }

    /// Marks the call cancelled and tells the pacer to drop it; never waits for a delivery in flight,
    /// so a receiver may cancel from inside its own callback without deadlocking.
    func cancel() {
        guard !cancelled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pacer.callWasCancelled()
    }
}
