import BridgeCore

/// One stream in the pacer's heap: its answer, how far it got, and when its next output is due.
struct PacedStream: Sendable, Comparable {
    let answer: SimulatedAnswer
    let receiver: any LLMReceiver
    let call: SimulatedCall
    /// Uptime in nanoseconds when the stream started; every due time counts from it, so delays do
    /// not add up over a long answer.
    let start: UInt64
    /// Breaks ties between streams due at the same time: first scheduled, first served.
    var order: UInt64
    var next = 0
    var due: UInt64 = 0

    init(answer: SimulatedAnswer, receiver: any LLMReceiver, call: SimulatedCall, start: UInt64, order: UInt64) {
        self.answer = answer
        self.receiver = receiver
        self.call = call
        self.start = start
        self.order = order
    }

    func dueTime(ofOutput index: Int) -> UInt64 {
        let offset = UInt64(clamping: answer.offsetNanoseconds(ofOutput: index))
        let (due, overflow) = start.addingReportingOverflow(offset)
        return overflow ? .max : due
    }

    /// Delivers the outputs due by `now`, at most `limit` of them, and the finish when it is reached.
    /// True when the stream has more to deliver later (with `due` set to when); false once it has
    /// finished or was cancelled.
    mutating func deliver(dueBy now: UInt64, limit: Int) -> Bool {
        let outputs = answer.outputs
        var delivered = 0
        while next < outputs.count {
            guard !call.isCancelled else { return false }
            let nextDue = dueTime(ofOutput: next)
            if nextDue > now {
                due = nextDue
                return true
            }
            if delivered == limit {
                // Back of the line behind everything already due, so one stream cannot starve the rest.
                due = now
                return true
            }
            receiver.llmDidProduce(outputs[next])
            next += 1
            delivered += 1
        }
        guard !call.isCancelled else { return false }
        receiver.llmDidFinish(answer.failure)
        return false
    }

    static func < (lhs: PacedStream, rhs: PacedStream) -> Bool {
        (lhs.due, lhs.order) < (rhs.due, rhs.order)
    }

    /// Heap order only: two entries are "equal" when due at the same time in the same turn.
    static func == (lhs: PacedStream, rhs: PacedStream) -> Bool {
        lhs.due == rhs.due && lhs.order == rhs.order
    }
}
