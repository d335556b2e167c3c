import AMQP
import BridgeCore

/// A prompt whose delivery is unacked while its stream runs; the delivery is kept so an answer
/// that could not be delivered can still be dead-lettered whole.
struct InFlightPrompt: Sendable {
    let delivery: AMQPDelivery
    let prompt: PromptMessage
    let sink: ResponseQueueSink
    /// When the delivery arrived: the broker's consumer timeout counts from here.
    let received: ContinuousClock.Instant
    var run: StreamRun?
}

/// A prompt held back while the pipeline is full or the broker is behind: prefetch bounds how
/// many there can be.
struct WaitingPrompt: Sendable {
    let delivery: AMQPDelivery
    let prompt: PromptMessage
    let received: ContinuousClock.Instant
}

/// How long new prompts wait after the broker fell behind: doubling from 1 s to 30 s each time it
/// falls behind again after a hold ended, back to 1 s once an answer gets through. Failures during
/// a hold (the other streams of the same burst) do not lengthen it.
struct HoldBackoff: Sendable {
    private var next: Duration = .seconds(1)
    private var until: ContinuousClock.Instant?

    /// The end of the hold that starts (or is already running) at `now`.
    mutating func hold(now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant {
        if let until, now < until { return until }
        let end = now + next
        until = end
        next = min(next * 2, .seconds(30))
        return end
    }

    mutating func reset() {
        next = .seconds(1)
    }
}
