// MARK: - Deadlines and delayed starts (loop thread only)
//
// Deadlines are set on every chunk of every stream (idle timeouts), so setting one must be O(1):
// it stores the instant on the transfer and lowers `earliestDeadline` if needed. Nothing is done
// when a deadline moves later; `earliestDeadline` then becomes an early lower bound. When it
// passes, one scan of all transfers aborts the expired ones and recomputes the exact minimum. With
// deadlines pushed forward by a steady stream, that is one O(n) scan per deadline window rather than
// work per chunk (a heap would need a push per chunk and grow with stale entries).

extension LoopCore {
    @discardableResult
    func setDeadline(_ id: CurlTransferID, _ deadline: ContinuousClock.Instant?, reason: String) -> Bool {
        guard let transfer = transfers[id] else { return false }
        transfer.deadline = deadline
        transfer.deadlineReason = reason
        if let deadline, earliestDeadline.map({ deadline < $0 }) ?? true {
            earliestDeadline = deadline
        }
        return true
    }

    func expireDeadlines(now: ContinuousClock.Instant) {
        guard let earliest = earliestDeadline, earliest <= now else { return }
        let scanStart = ContinuousClock.now
        var next: ContinuousClock.Instant?
        for transfer in transfers.values {
            guard let deadline = transfer.deadline, transfer.abortReason == nil else { continue }
            if deadline <= now {
                transfer.abortReason = .deadlineExceeded(transfer.deadlineReason)
                pendingAborts.append(transfer.id)
            } else if next.map({ deadline < $0 }) ?? true {
                next = deadline
            }
        }
        earliestDeadline = next
        let elapsed = (ContinuousClock.now - scanStart).components
        deadlineScans.add(1, ordering: .relaxed)
        deadlineScanNanoseconds.add(
            Int(elapsed.seconds) * 1_000_000_000 + Int(elapsed.attoseconds / 1_000_000_000), ordering: .relaxed)
    }

    func startDueTransfers(now: ContinuousClock.Instant) {
        guard let earliest = earliestNotBefore, earliest <= now else { return }
        var stillWaiting: [CurlTransfer] = []
        var due: [CurlTransfer] = []
        var next: ContinuousClock.Instant?
        for transfer in waiting {
            guard let notBefore = transfer.notBefore else { continue }
            if notBefore <= now {
                due.append(transfer)
            } else {
                stillWaiting.append(transfer)
                next = min(next ?? notBefore, notBefore)
            }
        }
        waiting = stillWaiting
        earliestNotBefore = next
        for transfer in due {
            attach(transfer)
        }
    }

    /// How long the loop may sleep: until libcurl's timer, the next deadline or delayed start, at
    /// most 1 s (a safety net only: new work wakes the loop through the watcher's eventfd).
    func waitTimeoutMilliseconds(now: ContinuousClock.Instant) -> Int32 {
        var timeout = 1000
        for instant in [multi.watcher.timerDue, earliestDeadline, earliestNotBefore] {
            guard let instant else { continue }
            timeout = instant <= now ? 0 : min(timeout, (instant - now).curlMilliseconds)
        }
        return Int32(timeout)
    }
}
