import BridgeCore
import Dispatch
import Foundation
import Synchronization

/// Delivers the outputs of many simulated streams on time, from one thread and one min-heap of
/// streams ordered by when their next output is due.
///
/// Thousands of streams cost a heap entry each, not a thread or a task, and no task is created per
/// token. A stream that fell behind (the thread was busy) gets its overdue tokens in one burst. The
/// thread exists only while there are streams: it ends shortly after the heap empties and a new one
/// starts with the next stream.
final class StreamPacer: Sendable {
    /// Outputs delivered to one stream before the others get a turn, so an unpaced stream of
    /// 100,000 tokens does not hold up paced streams that are due.
    static let burstLimit = 64
    /// How long an idle delivery thread waits for another stream before it ends (nanoseconds).
    static let linger: UInt64 = 250_000_000

    private struct State: Sendable {
        var heap = PacerHeap<PacerEntry>()
        var threadRunning = false
        /// When the thread is asleep: the time it will wake on its own. Nil while it works, so
        /// `schedule` and `cancel` only signal a thread that needs waking.
        var sleepingUntil: UInt64?
        var cancellationPending = false
        /// When an idle thread ends if no stream arrives first.
        var idleDeadline: UInt64?
        var nextOrder: UInt64 = 0
    }

    private let name: String
    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)

    init(name: String) {
        self.name = name
    }

    /// Streams waiting for their next output (cancelled ones until the thread drops them).
    var scheduledCount: Int { state.withLock { $0.heap.count } }

    /// Whether the delivery thread is alive; false once every stream has ended or been cancelled.
    var isThreadRunning: Bool { state.withLock { $0.threadRunning } }

    /// Starts delivering `answer` to `receiver`, on time counted from now.
    func schedule(_ answer: SimulatedAnswer, to receiver: any LLMReceiver) -> SimulatedCall {
        let call = SimulatedCall(pacer: self)
        let start = Self.now()
        let (startThread, signal) = state.withLock { state -> (Bool, Bool) in
            let stream = PacedStream(answer: answer, receiver: receiver, call: call, start: start)
            let entry = PacerEntry(stream: stream, order: state.nextOrder)
            state.nextOrder &+= 1
            state.heap.push(entry)
            if !state.threadRunning {
                state.threadRunning = true
                return (true, false)
            }
            guard let sleepingUntil = state.sleepingUntil, entry.due < sleepingUntil else { return (false, false) }
            state.sleepingUntil = nil
            return (false, true)
        }
        if signal { wakeUp.signal() }
        if startThread { startDeliveryThread() }
        return call
    }

    /// Has the thread drop cancelled streams now rather than when they come due, so nothing of
    /// theirs (their receiver above all) stays alive after the cancel.
    func callWasCancelled() {
        let signal = state.withLock { state -> Bool in
            state.cancellationPending = true
            guard state.sleepingUntil != nil else { return false }
            state.sleepingUntil = nil
            return true
        }
        if signal { wakeUp.signal() }
    }

    // MARK: - The delivery thread

    private func startDeliveryThread() {
        let thread = Thread { [self] in
            while let batch = nextBatch() {
                let now = Self.now()
                var unfinished: [PacerEntry] = []
                for var entry in batch where entry.stream.deliver(&entry, dueBy: now, limit: Self.burstLimit) {
                    unfinished.append(entry)
                }
                if !unfinished.isEmpty {
                    state.withLock { state in
                        for entry in unfinished { state.heap.push(entry) }
                    }
                }
            }
        }
        thread.name = name
        thread.start()
    }

    private enum Step {
        case deliver([PacerEntry])
        case sleep(until: UInt64)
        case exit
    }

    /// Waits until some streams are due and takes them off the heap; nil when there are none left,
    /// and the thread then ends.
    private func nextBatch() -> [PacerEntry]? {
        while true {
            let step = state.withLock { state -> Step in
                if state.cancellationPending {
                    state.cancellationPending = false
                    state.heap.removeAll { $0.stream.call.isCancelled }
                }
                let now = Self.now()
                guard let first = state.heap.min else {
                    // Linger a moment so back-to-back requests do not start a thread each.
                    let deadline = state.idleDeadline ?? now + Self.linger
                    guard now < deadline else {
                        state.threadRunning = false
                        state.idleDeadline = nil
                        return .exit
                    }
                    state.idleDeadline = deadline
                    state.sleepingUntil = deadline
                    return .sleep(until: deadline)
                }
                state.idleDeadline = nil
                guard first.due <= now else {
                    state.sleepingUntil = first.due
                    return .sleep(until: first.due)
                }
                state.sleepingUntil = nil
                var batch: [PacerEntry] = []
                while let next = state.heap.min, next.due <= now, let entry = state.heap.popMin() {
                    batch.append(entry)
                }
                return .deliver(batch)
            }
            switch step {
            case .deliver(let batch): return batch
            case .sleep(let due): _ = wakeUp.wait(timeout: DispatchTime(uptimeNanoseconds: due))
            case .exit: return nil
            }
        }
    }

    static func now() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }
}
