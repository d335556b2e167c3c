import AMQP
import BridgeCore
import Logging

extension RabbitMQIngress {
    /// A prompt delivery, on the connection thread.
    func handlePrompt(_ delivery: AMQPDelivery) {
        guard state.withLock({ $0.consuming }) else {
            // Sent before the consumer was cancelled: back to the queue for another worker.
            connection.reject(delivery.tag, requeue: true)
            return
        }
        switch decoder.decode(delivery) {
        case .failure(let rejection):
            deadLetter(delivery, rejection)
        case .success(let prompt):
            accept(prompt, delivery)
        }
    }

    private func accept(_ prompt: PromptMessage, _ delivery: AMQPDelivery) {
        let metadata: Logger.Metadata = [
            "stream.id": "\(prompt.uid)", "amqp.redelivered": "\(delivery.redelivered)", "uid.source": "\(prompt.uidSource.rawValue)",
        ]
        if let completion = pipeline.completion(of: prompt.uid) {
            // Its answer is complete (the ack was lost with a connection): nothing to generate again.
            logger.info(
                "prompt already answered, acknowledging it without calling the model",
                metadata: metadata.merging(["stream.epoch": "\(completion.epoch)", "stream.end": "\(completion.terminalType)"]) { $1 })
            connection.ack(delivery.tag)
            return
        }
        let busy = state.withLock { state in
            state.inFlight[prompt.uid] != nil || state.waiting.contains { $0.prompt.uid == prompt.uid }
        }
        if busy || pipeline.run(uid: prompt.uid) != nil {
            deadLetter(
                delivery,
                PromptRejection(
                    code: .streamExists, reason: "A stream with uid '\(prompt.uid)' is already running.", target: nil,
                    uid: prompt.uid, correlationID: prompt.correlationID))
            return
        }
        if prompt.uidSource == .generated {
            logger.info("prompt names no uid; generated one", metadata: metadata)
        } else if delivery.redelivered {
            logger.info("prompt redelivered; answering it again under a new epoch", metadata: metadata)
        }
        if !start(WaitingPrompt(delivery: delivery, prompt: prompt), atFront: false) { startWaiting() }
    }

    /// Starts a stream for the prompt; when the pipeline is full the prompt waits (its delivery
    /// stays unacked) and false is returned.
    @discardableResult
    func start(_ waiting: WaitingPrompt, atFront: Bool) -> Bool {
        let prompt = waiting.prompt
        let tag = waiting.delivery.tag
        let uid = prompt.uid
        let encoder = ResponseMessageEncoder(
            format: configuration.format, target: prompt.target, queueExpires: configuration.queueExpires,
            deliveryMode: configuration.deliveryMode, uid: uid, correlationID: prompt.correlationID,
            model: pipeline.model(for: prompt.request))
        let sink = ResponseQueueSink(
            connection: connection, encoder: encoder, coalesceWindow: configuration.coalesceWindow,
            onFailure: { [weak self] reason in self?.sinkFailed(uid: uid, tag: tag, reason: reason) },
            onSettled: { [weak self] settlement in self?.settled(uid: uid, tag: tag, settlement) })
        // Recorded before the stream starts: its first events are published from inside `start`.
        state.withLock { $0.inFlight[uid] = InFlightPrompt(delivery: waiting.delivery, prompt: prompt, sink: sink) }
        let deadline = ContinuousClock.now + configuration.consumerTimeout - configuration.deadlineMargin
        do {
            let run = try pipeline.start(prompt.request, sinks: [sink], deadline: deadline)
            state.withLock { state in
                if state.inFlight[uid]?.delivery.tag == tag { state.inFlight[uid]?.run = run }
            }
            logger.debug("prompt started", metadata: ["stream.id": "\(uid)", "stream.epoch": "\(run.epoch)"])
            return true
        } catch {
            state.withLock { state in
                if state.inFlight[uid]?.delivery.tag == tag { state.inFlight[uid] = nil }
            }
            switch error.kind {
            case .overloaded:
                let queued = state.withLock { state -> Bool in
                    guard state.consuming else { return false }
                    if atFront { state.waiting.insert(waiting, at: 0) } else { state.waiting.append(waiting) }
                    return true
                }
                if !queued { connection.reject(tag, requeue: true) }
                return false
            case .unavailable:
                connection.reject(tag, requeue: true)
            case .conflict:
                deadLetter(
                    waiting.delivery,
                    PromptRejection(code: .streamExists, reason: error.message, target: nil, uid: uid, correlationID: prompt.correlationID))
            case .invalid, .unsupported:
                deadLetter(
                    waiting.delivery,
                    PromptRejection(
                        code: .invalidRequest, reason: error.message, target: prompt.target, uid: uid,
                        correlationID: prompt.correlationID))
            }
            return true
        }
    }

    /// Starts waiting prompts while the pipeline has room (called whenever a stream ends).
    func startWaiting() {
        while let next = state.withLock({ state -> WaitingPrompt? in
            state.waiting.isEmpty ? nil : state.waiting.removeFirst()
        }) {
            if !start(next, atFront: true) { return }
        }
    }

    private func settled(uid: String, tag: AMQPDeliveryTag, _ settlement: ResponseQueueSink.Settlement) {
        let finished = state.withLock { state -> InFlightPrompt? in
            guard let prompt = state.inFlight[uid], prompt.delivery.tag == tag else { return nil }
            state.inFlight[uid] = nil
            return prompt
        }
        guard let finished else { return }
        switch settlement {
        case .delivered:
            connection.ack(tag)
        case .undeliverable(let reason):
            deadLetter(
                finished.delivery,
                PromptRejection(
                    code: .undeliverable, reason: "The answer could not be delivered: \(reason)", target: nil, uid: uid,
                    correlationID: finished.prompt.correlationID))
        }
    }

    /// An answer message failed: nobody will read the rest, so stop spending the model on it.
    private func sinkFailed(uid: String, tag: AMQPDeliveryTag, reason: String) {
        logger.warning("answer not delivered; cancelling the stream", metadata: ["stream.id": "\(uid)", "error": "\(reason)"])
        let run = state.withLock { state in state.inFlight[uid].flatMap { $0.delivery.tag == tag ? $0.run : nil } }
        // Not from here: this may run inside the stream's own delivery, where cancelling would deadlock.
        Task { run?.cancel() }
    }
}
