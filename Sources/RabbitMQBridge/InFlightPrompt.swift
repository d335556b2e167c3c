import AMQP
import BridgeCore

/// A prompt whose delivery is unacked while its stream runs; the delivery is kept so an answer
/// that could not be delivered can still be dead-lettered whole.
struct InFlightPrompt: Sendable {
    let delivery: AMQPDelivery
    let prompt: PromptMessage
    let sink: ResponseQueueSink
    var run: StreamRun?
}

/// A prompt held back while the pipeline is full: prefetch bounds how many there can be.
struct WaitingPrompt: Sendable {
    let delivery: AMQPDelivery
    let prompt: PromptMessage
}
