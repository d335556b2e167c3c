import Synchronization

/// Work handed to the loop thread by other threads.
enum LoopCommand: Sendable {
    case start(TransferStart)
    case cancel(CurlTransferID)
    case deadline(CurlTransferID, ContinuousClock.Instant?, reason: String)
}

/// Everything needed to create a transfer on the loop thread. No libcurl object crosses threads:
/// the easy handle is made from this on the loop thread.
struct TransferStart: Sendable {
    var id: CurlTransferID
    var request: CurlRequest
    var delegate: any CurlTransferDelegate
    var notBefore: ContinuousClock.Instant?
}

/// The locked mailbox between any thread and the loop thread. Critical sections only append to or
/// swap arrays; libcurl is never called under the lock (the caller wakes the loop afterwards).
final class LoopInbox: Sendable {
    private struct State {
        var commands: [LoopCommand] = []
        var stopRequested = false
        /// Set by the loop's final drain: from then on nothing is accepted, so nothing can be
        /// posted after the loop stopped looking (a start would otherwise never complete).
        var closed = false
    }

    private let state = Mutex(State())

    /// Queues a command. Returns false when the loop has shut down and will never read it.
    func post(_ command: LoopCommand) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.commands.append(command)
            return true
        }
    }

    func requestStop() {
        state.withLock { $0.stopRequested = true }
    }

    /// Takes everything queued so far (the loop's per-iteration drain).
    func take() -> (commands: [LoopCommand], stopRequested: Bool) {
        state.withLock { state in
            var taken: [LoopCommand] = []
            swap(&taken, &state.commands)
            return (taken, state.stopRequested)
        }
    }

    /// The final drain: refuses all later posts and returns what was still queued.
    func close() -> [LoopCommand] {
        state.withLock { state in
            state.closed = true
            var taken: [LoopCommand] = []
            swap(&taken, &state.commands)
            return taken
        }
    }
}
