import Synchronization

/// Runs HTTP transfers on one thread that owns a libcurl multi handle.
///
/// Transfers are started from any thread; their response arrives incrementally through a
/// `CurlTransferDelegate` on the loop thread. One loop carries a thousand concurrent streams.
/// Connections are kept alive and reused across transfers (HTTP/1.1).
public final class CurlMultiLoop: Sendable {
    private let core: LoopCore
    private let thread: Mutex<LoopThread?>
    private let nextID = Atomic<UInt64>(1)

    /// Creates the multi handle and starts the loop thread (`name` names the thread).
    public init(name: String = "curl") throws(CurlError) {
        let core = try LoopCore()
        self.core = core
        thread = Mutex(try LoopThread.start(core: core, name: name))
    }

    deinit {
        shutdown()
    }

    /// Starts a transfer. Any thread; returns at once.
    ///
    /// - Parameter notBefore: do not begin before this instant (retry backoff). The wait is a timer
    ///   of the loop, not a thread or a Task; deadlines and `cancel` apply while waiting.
    /// - Returns: the id for `cancel` and `setDeadline`. After `shutdown`, the delegate is told
    ///   `.shutdown` at once, on the calling thread (there is no loop thread any more).
    @discardableResult
    public func start(
        _ request: CurlRequest, delegate: any CurlTransferDelegate, notBefore: ContinuousClock.Instant? = nil
    ) -> CurlTransferID {
        let id = CurlTransferID(rawValue: nextID.wrappingAdd(1, ordering: .relaxed).oldValue)
        core.activeCount.add(1, ordering: .relaxed)
        let start = TransferStart(id: id, request: request, delegate: delegate, notBefore: notBefore)
        if core.inbox.post(.start(start)) {
            core.multi.wakeup()
        } else {
            core.activeCount.subtract(1, ordering: .relaxed)
            delegate.curlTransfer(id, didCompleteWith: .shutdown)
        }
        return id
    }

    /// Aborts a transfer at once: its connection is closed, so the server sees the client go away.
    /// The delegate then gets `didCompleteWith(.cancelled)` and nothing else. Any thread; no effect
    /// on a transfer that already completed.
    public func cancel(_ id: CurlTransferID) {
        if core.isOnLoopThread, core.abort(id, .cancelled) { return }
        send(.cancel(id))
    }

    /// Sets (or with `nil` clears) the instant after which the transfer is aborted with
    /// `.deadlineExceeded(reason:)`. Replaces the previous deadline. Meant to be called on every
    /// chunk (time to first byte, idle between chunks): from a delegate callback it is a couple of
    /// stores; from another thread it goes through the inbox and wakes the loop.
    public func setDeadline(_ id: CurlTransferID, _ deadline: ContinuousClock.Instant?, reason: String) {
        if core.isOnLoopThread, core.setDeadline(id, deadline, reason: reason) { return }
        send(.deadline(id, deadline, reason: reason))
    }

    /// Aborts every transfer (delegates get `.shutdown`) and joins the loop thread. Idempotent.
    /// Called from a delegate callback (the loop thread), it cannot join itself: the loop then stops
    /// right after the current callback returns, and no transfer takes more data meanwhile.
    public func shutdown() {
        core.inbox.requestStop()
        core.multi.wakeup()
        // One read can hold several chunks of a transfer, each its own write callback in the same
        // pass: without this, the delegate that asked for the stop would still get the rest.
        if core.isOnLoopThread { core.abortAll(.shutdown) }
        guard let thread = thread.withLock({ $0.take() }) else { return }
        if core.isOnLoopThread {
            thread.detach()
        } else {
            thread.join()
        }
    }

    /// Runs `body` on the loop thread after every few sockets it served and before it waits again,
    /// so that work the delegate callbacks produced can be handed on in one go (the HTTP server
    /// is woken once for the writes of many streams; see `WebServer.deferWakes`).
    public func afterEachPass(_ body: @escaping @Sendable () -> Void) {
        core.passObservers.withLock { $0.append(body) }
    }

    /// True on the loop thread (inside delegate callbacks and pass observers).
    public var isCurrentThread: Bool { core.isOnLoopThread }

    /// Transfers started and not yet completed (queued, delayed and running ones).
    public var activeTransfers: Int {
        core.activeCount.load(ordering: .relaxed)
    }

    /// Counters of the loop's own work, for metrics and benchmarks.
    public var statistics: CurlLoopStatistics {
        CurlLoopStatistics(
            iterations: core.iterations.load(ordering: .relaxed),
            deadlineScans: core.deadlineScans.load(ordering: .relaxed),
            deadlineScanTime: .nanoseconds(core.deadlineScanNanoseconds.load(ordering: .relaxed)))
    }

    private func send(_ command: LoopCommand) {
        // A refused post means the loop is gone, and with it the transfer: nothing left to do.
        if core.inbox.post(command) {
            core.multi.wakeup()
        }
    }
}

/// What the loop thread has been doing.
public struct CurlLoopStatistics: Sendable {
    /// Passes through the loop (each waits once for sockets, timers or new work).
    public var iterations: Int
    /// Full scans of the transfers for expired deadlines, and the time they took in total.
    public var deadlineScans: Int
    public var deadlineScanTime: Duration
}
