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
        if let completion = state.withLock({ $0.answered.lookup(prompt.uid) }) {
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
        let prompt = WaitingPrompt(delivery: delivery, prompt: prompt)
        let held = state.withLock { state -> Bool in
            guard state.isHeld(now: .now) || !state.waiting.isEmpty else { return false }
            state.waiting.append(prompt)
            return true
        }
        if held {
            startWaiting()
        } else if !start(prompt, atFront: false) {
            startWaiting()
        }
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
            onFailure: { [weak self] failure in self?.sinkFailed(uid: uid, tag: tag, failure) },
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

    /// Starts waiting prompts while the pipeline has room and the broker keeps up (called whenever
    /// a stream ends, the broker unblocks, or a hold ends).
    func startWaiting() {
        while let next = state.withLock({ state -> WaitingPrompt? in
            guard !state.waiting.isEmpty, !state.isHeld(now: .now) else { return nil }
            let next = state.waiting.removeFirst()
            if state.probing { state.probe = next.prompt.uid }
            return next
        }) {
            if !start(next, atFront: true) {
                state.withLock { state in
                    if state.probe == next.prompt.uid { state.probe = nil }
                }
                return
            }
        }
    }

    private func settled(uid: String, tag: AMQPDeliveryTag, _ settlement: ResponseQueueSink.Settlement) {
        let (finished, probeDone) = state.withLock { state -> (InFlightPrompt?, Bool) in
            guard let prompt = state.inFlight[uid], prompt.delivery.tag == tag else { return (nil, false) }
            state.inFlight[uid] = nil
            // The broker took a whole answer again: the prompts held behind the probe may go.
            let probeDone = state.probe == uid
            if probeDone {
                state.probing = false
                state.probe = nil
            }
            return (prompt, probeDone)
        }
        guard let finished else { return }
        defer { if probeDone { startWaiting() } }
        switch settlement {
        case .delivered:
            state.withLock { state in
                state.holdBackoff.reset()
                if let run = finished.run {
                    state.answered.record(uid: uid, StreamCompletion(epoch: run.epoch, terminalType: "answered", at: .now))
                }
            }
            connection.ack(tag)
        case .undeliverable(let reason):
            deadLetter(
                finished.delivery,
                PromptRejection(
                    code: .undeliverable, reason: "The answer could not be delivered: \(reason)", target: nil, uid: uid,
                    correlationID: finished.prompt.correlationID))
        }
    }

    /// An answer message failed. If the broker refused it (no such reply queue...), nobody will
    /// read the rest: the stream stops and the prompt is dead-lettered once it settles. If the
    /// broker is only behind, the prompt goes back to the queue to be answered again.
    private func sinkFailed(uid: String, tag: AMQPDeliveryTag, _ failure: ResponseQueueSink.Failure) {
        guard failure.retryable else {
            logger.warning("answer not delivered; cancelling the stream", metadata: ["stream.id": "\(uid)", "error": "\(failure.reason)"])
            let run = state.withLock { state in state.inFlight[uid].flatMap { $0.delivery.tag == tag ? $0.run : nil } }
            // Not from here: this may run inside the stream's own delivery, where cancelling would deadlock.
            Task { run?.cancel() }
            return
        }
        let (requeued, hold) = state.withLock { state -> (InFlightPrompt?, Duration) in
            guard let prompt = state.inFlight[uid], prompt.delivery.tag == tag else { return (nil, .zero) }
            state.inFlight[uid] = nil
            let end = state.holdBackoff.hold()
            state.holdUntil = end
            state.probing = true
            if state.probe == uid { state.probe = nil }
            return (prompt, end - .now)
        }
        guard let requeued else { return }
        logger.warning(
            "the broker is not keeping up; the prompt goes back to the queue and new prompts wait",
            metadata: ["stream.id": "\(uid)", "error": "\(failure.reason)", "hold": "\(hold)"])
        connection.schedule(after: hold) { [weak self] in self?.startWaiting() }
        requeued.sink.silence()
        connection.reject(tag, requeue: true)
        Task {
            requeued.run?.fail(
                StreamFailure(code: .requeued, message: "The broker is not keeping up; the prompt went back to the queue."))
        }
    }
}

extension RabbitMQIngress.State {
    /// New prompts wait: the broker blocks publishing, a hold runs, or a probe is out.
    func isHeld(now: ContinuousClock.Instant) -> Bool {
        // A probe that is no longer in flight (given back, refused) holds nothing.
        brokerBlocked || holdUntil.map { now < $0 } ?? false || (probing && probe.map { inFlight[$0] != nil } ?? false)
    }
}
