@testable import Curl
import Testing

/// Measures and checks the deadline bookkeeping the loop does for 1000 transfers, without sockets:
/// the transfers are configured but never added to the multi handle.
@Test func deadlineBookkeepingAtAThousandTransfers() throws {
    final class Ignore: CurlTransferDelegate {
        func curlTransfer(_ id: CurlTransferID, didReceiveHead status: Int, headers: [(name: String, value: String)]) {}
        func curlTransfer(_ id: CurlTransferID, didReceive body: UnsafeRawBufferPointer) {}
        func curlTransfer(_ id: CurlTransferID, didCompleteWith error: CurlError?) {}
    }
    let core = try LoopCore()
    let delegate = Ignore()
    let ids = (1...1000).map { CurlTransferID(rawValue: UInt64($0)) }
    for id in ids {
        let request = CurlRequest(url: "http://127.0.0.1:9/")
        let start = TransferStart(id: id, request: request, delegate: delegate, notBefore: nil)
        core.transfers[id] = try CurlTransfer.make(start).get()
    }
    let base = ContinuousClock.now

    // 100 rounds of "a chunk arrived on every stream": each pushes its idle deadline forward.
    let clock = ContinuousClock()
    let setCost = clock.measure {
        for round in 1...100 {
            for id in ids {
                core.setDeadline(id, base + .seconds(10) + .milliseconds(round), reason: "idle")
            }
        }
    }
    // Pull one deadline into the past: one scan must find exactly that one and the exact next minimum.
    core.setDeadline(ids[500], base - .seconds(1), reason: "first token")
    let scanCost = clock.measure { core.expireDeadlines(now: base) }
    #expect(core.pendingAborts == [ids[500]])
    #expect(core.transfers[ids[500]]?.abortReason?.kind == .deadlineExceeded(reason: "first token"))
    #expect(core.earliestDeadline == base + .seconds(10) + .milliseconds(100))
    // A scan with nothing due is skipped entirely.
    core.expireDeadlines(now: base + .seconds(1))
    #expect(core.deadlineScans.load(ordering: .relaxed) == 1)
    print(
        "[CurlTests] deadline bookkeeping, 1000 transfers: setDeadline \(setCost / 100_000) each, "
            + "one scan \(scanCost)")
}
