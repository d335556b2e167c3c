import BridgeCore

/// One stream the pacer delivers: its answer, its receiver and when it started. Immutable, so the
/// delivery thread and `cancel` can share it; the progress lives in the pacer's `PacerEntry`.
final class PacedStream: Sendable {
    let answer: SimulatedAnswer
    let receiver: any LLMReceiver
    let call: SimulatedCall
    /// Uptime in nanoseconds when the stream started; every due time counts from it, so delays do
    /// not add up over a long answer.
    let start: UInt64
    /// Copied out of `answer` once: working them out of `Duration`s on every token shows in profiles.
    private let interval: UInt64
    private let delay: UInt64

    init(answer: SimulatedAnswer, receiver: any LLMReceiver, call: SimulatedCall, start: UInt64) {
        self.answer = answer
        self.receiver = receiver
        self.call = call
        self.start = start
        self.interval = UInt64(clamping: answer.intervalNanoseconds)
        self.delay = UInt64(clamping: answer.initialDelayNanoseconds)
    }

    /// As `SimulatedAnswer.offset(ofOutput:)`, counted from `start`, in uptime nanoseconds.
    func dueTime(ofOutput index: Int) -> UInt64 {
        let paced = UInt64(min(index, answer.tokenCount - 1) + 1)
        let (pacing, overflow) = interval.multipliedReportingOverflow(by: paced)
        let (due, overflowAgain) = start.addingReportingOverflow(delay &+ pacing)
        return overflow || overflowAgain ? .max : due
    }

    /// Delivers the outputs from `entry.next` that are due by `now`, at most `limit` of them, and the
    /// finish when it is reached. True when the stream has more to deliver later (with the entry's
    /// `due` set to when); false once it has finished or was cancelled.
    func deliver(_ entry: inout PacerEntry, dueBy now: UInt64, limit: Int) -> Bool {
        let outputs = answer.outputs
        var delivered = 0
        while entry.next < outputs.count {
            guard !call.isCancelled else { return false }
            let nextDue = dueTime(ofOutput: entry.next)
            if nextDue > now {
                entry.due = nextDue
                return true
            }
            if delivered == limit {
                // Back of the line behind everything already due, so one stream cannot starve the rest.
                entry.due = now
                return true
            }
            if answer.stamped, case .text = outputs[entry.next] {
                receiver.llmDidProduce(.text("<\(StreamPacer.now())>"))
            } else {
                receiver.llmDidProduce(outputs[entry.next])
            }
            entry.next += 1
            delivered += 1
        }
        guard !call.isCancelled else { return false }
        receiver.llmDidFinish(answer.failure)
        return false
    }
}

/// A stream's place in the pacer's heap: small, so reordering the heap moves one reference.
struct PacerEntry: Sendable, Comparable {
    var due: UInt64
    /// Breaks ties between streams due at the same time: first scheduled, first served.
    let order: UInt64
    var next = 0
    let stream: PacedStream

    init(stream: PacedStream, order: UInt64) {
        self.stream = stream
        self.order = order
        self.due = stream.dueTime(ofOutput: 0)
    }

    static func < (lhs: PacerEntry, rhs: PacerEntry) -> Bool {
        (lhs.due, lhs.order) < (rhs.due, rhs.order)
    }

    /// Heap order only: two entries are "equal" when due at the same time in the same turn.
    static func == (lhs: PacerEntry, rhs: PacerEntry) -> Bool {
        lhs.due == rhs.due && lhs.order == rhs.order
    }
}
