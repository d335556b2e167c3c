/// What the AMQP bench counted, shared between the connection thread and the run loop.
struct AMQPBenchTally: Sendable {
    var promptsStarted = 0
    var promptsCompleted = 0
    var promptsFailed = 0
    var messages = 0
    var tokens = 0
    /// Deltas missing from completed answers (expected tokens minus received).
    var lostTokens = 0
    /// A seq seen twice for one answer.
    var duplicates = 0
    /// A seq that skipped ahead or went back.
    var outOfOrder = 0
    var failures: [String: Int] = [:]

    mutating func fail(_ reason: String) {
        promptsFailed += 1
        failures[String(reason.prefix(200)), default: 0] += 1
    }
}
