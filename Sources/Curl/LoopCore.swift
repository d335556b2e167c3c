import CCurl
import Glibc
import Synchronization

/// The state and the loop of the one thread that owns the multi handle and every easy handle.
final class LoopCore: @unchecked Sendable {
    // @unchecked: every `var` below is touched only on the loop thread, by `run()` and by the
    // CurlMultiLoop fast paths that first check `isOnLoopThread` (delegate callbacks). What other
    // threads use (inbox, multi.wakeup, the atomics) is thread-safe on its own.

    let multi: MultiHandle
    let inbox = LoopInbox()
    /// Started and not yet completed (including queued and delayed ones); read by any thread.
    let activeCount = Atomic<Int>(0)
    let iterations = Atomic<Int>(0)
    let deadlineScans = Atomic<Int>(0)
    let deadlineScanNanoseconds = Atomic<Int>(0)
    private let loopThreadID = Atomic<UInt>(0)
    /// Run on the loop thread after every few sockets served and before each wait.
    let passObservers = Mutex<[@Sendable () -> Void]>([])
    /// Sockets served between two runs of the observers: what they batch waits at most this many
    /// sockets' worth of callbacks.
    static let socketsPerObserverRun = 8

    var transfers: [CurlTransferID: CurlTransfer] = [:]
    /// Transfers waiting for their `notBefore` (retry backoff): few, scanned when the earliest is due.
    var waiting: [CurlTransfer] = []
    var earliestNotBefore: ContinuousClock.Instant?
    /// A lower bound of all deadlines: it may be earlier than the real earliest (deadlines pushed
    /// forward do not update it), which only costs one extra scan. See LoopCore+Deadlines.
    var earliestDeadline: ContinuousClock.Instant?
    /// Aborts requested from inside callbacks, where libcurl forbids removing handles; settled
    /// after curl_multi_socket_action returns.
    var pendingAborts: [CurlTransferID] = []

    init() throws(CurlError) {
        multi = try MultiHandle()
    }

    var isOnLoopThread: Bool {
        let id = loopThreadID.load(ordering: .acquiring)
        return id != 0 && id == LoopThread.currentID()
    }

    // MARK: - The loop

    func run() {
        loopThreadID.store(LoopThread.currentID(), ordering: .releasing)
        var stopRequested = false
        while !stopRequested {
            iterations.add(1, ordering: .relaxed)
            stopRequested = applyInbox()
            if stopRequested { break }
            startDueTransfers(now: .now)
            // What the commands did (a cancel above all) is settled and handed on before the
            // loop sleeps: a silent transfer has no socket activity to wake it later.
            settleAborts()
            runPassObservers()
            // Returns on socket activity, the wakeup eventfd, or the earliest timer (libcurl's,
            // a deadline, a delayed start).
            let ready = multi.watcher.wait(timeoutMilliseconds: waitTimeoutMilliseconds(now: .now))
            for (served, socket) in ready.enumerated() {
                var running: Int32 = 0
                _ = curl_multi_socket_action(multi.raw, socket.socket, socket.curlFlags, &running)
                if served % Self.socketsPerObserverRun == Self.socketsPerObserverRun - 1 {
                    runPassObservers()
                    // A pass over hundreds of busy sockets takes milliseconds: new transfers
                    // start within it rather than after it (their time to first token).
                    if applyInbox() { stopRequested = true }
                    serviceTimerIfDue()
                }
            }
            serviceTimerIfDue()
            reapCompleted()
            settleAborts()
            expireDeadlines(now: .now)
            settleAborts()
        }
        finishAll()
        runPassObservers()
        // A later thread may reuse this pthread id; it must not pass for the loop thread.
        loopThreadID.store(0, ordering: .releasing)
    }

    /// Applies what other threads queued; true when a stop was requested.
    private func applyInbox() -> Bool {
        let (commands, stopRequested) = inbox.take()
        for command in commands {
            apply(command)
        }
        return stopRequested
    }

    /// libcurl's own timer (a transfer just added, a connect or protocol timeout).
    private func serviceTimerIfDue() {
        guard let due = multi.watcher.timerDue, due <= .now else { return }
        multi.watcher.timerServed()
        var running: Int32 = 0
        _ = curl_multi_socket_action(multi.raw, tb_curl_socket_timeout(), 0, &running)
    }

    private func runPassObservers() {
        for observer in passObservers.withLock({ $0 }) { observer() }
    }

    private func apply(_ command: LoopCommand) {
        switch command {
        case .start(let start):
            begin(start)
        case .cancel(let id):
            _ = abort(id, .cancelled)
        case .deadline(let id, let deadline, let reason):
            _ = setDeadline(id, deadline, reason: reason)
        }
    }

    private func begin(_ start: TransferStart) {
        switch CurlTransfer.make(start) {
        case .failure(let error):
            activeCount.subtract(1, ordering: .relaxed)
            start.delegate.curlTransfer(start.id, didCompleteWith: error)
        case .success(let transfer):
            transfers[transfer.id] = transfer
            if let notBefore = transfer.notBefore, notBefore > .now {
                waiting.append(transfer)
                earliestNotBefore = min(earliestNotBefore ?? notBefore, notBefore)
            } else {
                attach(transfer)
            }
        }
    }

    func attach(_ transfer: CurlTransfer) {
        transfer.notBefore = nil
        let rc = curl_multi_add_handle(multi.raw, transfer.easy)
        if rc == CURLM_OK {
            transfer.isAttached = true
        } else {
            let text = String(cString: curl_multi_strerror(rc))
            _ = abort(transfer.id, .setupFailed("curl_multi_add_handle: \(text)", code: Int32(rc.rawValue)))
        }
    }

    // MARK: - Completion

    private func reapCompleted() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi.raw, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            var user: UnsafeMutableRawPointer?
            guard tb_curl_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &user) == CURLE_OK, let user else { continue }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
            guard transfers[transfer.id] === transfer else { continue }
            let code = message.pointee.data.result
            let error =
                transfer.abortReason
                ?? (code == CURLE_OK
                    ? nil : CurlError.fromCurl(code, detail: transfer.errorText, connected: transfer.wasConnected))
            finish(transfer, error)
        }
    }

    /// Marks a transfer for abort; the callbacks stop taking its data at once, and `settleAborts`
    /// removes it. Returns false when the id is unknown here (finished, or still in the inbox).
    func abort(_ id: CurlTransferID, _ reason: CurlError) -> Bool {
        guard let transfer = transfers[id] else { return false }
        if transfer.abortReason == nil {
            transfer.abortReason = reason
            pendingAborts.append(id)
        }
        return true
    }

    /// Marks every transfer for abort with `reason` (loop thread only): from a delegate callback,
    /// the rest of the current pass hands out no more data, and each ends once with `reason`.
    func abortAll(_ reason: CurlError) {
        for id in transfers.keys { _ = abort(id, reason) }
    }

    private func settleAborts() {
        // A delegate's didComplete may abort others: keep going until nothing is left.
        while !pendingAborts.isEmpty {
            let ids = pendingAborts
            pendingAborts = []
            for id in ids {
                if let transfer = transfers[id], let reason = transfer.abortReason {
                    finish(transfer, reason)
                }
            }
        }
    }

    /// Ends a transfer: out of the multi (for one still in flight this closes its connection, which
    /// is how the server learns of a cancel), handle freed, then the delegate told, exactly once.
    private func finish(_ transfer: CurlTransfer, _ error: CurlError?) {
        if transfer.isAttached {
            _ = curl_multi_remove_handle(multi.raw, transfer.easy)
            transfer.isAttached = false
        }
        if transfer.notBefore != nil {
            waiting.removeAll { $0 === transfer }
        }
        transfers[transfer.id] = nil
        if error == nil {
            transfer.deliverHeadIfMissing()
        }
        transfer.release()
        activeCount.subtract(1, ordering: .relaxed)
        transfer.delegate.curlTransfer(transfer.id, didCompleteWith: error)
    }

    /// Shutdown: refuse new work, then end everything (in start order) with `.shutdown`.
    private func finishAll() {
        let queued = inbox.close()
        for transfer in transfers.values.sorted(by: { $0.id.rawValue < $1.id.rawValue }) {
            finish(transfer, .shutdown)
        }
        for case .start(let start) in queued {
            activeCount.subtract(1, ordering: .relaxed)
            start.delegate.curlTransfer(start.id, didCompleteWith: .shutdown)
        }
        waiting = []
        pendingAborts = []
        earliestDeadline = nil
        earliestNotBefore = nil
    }
}
