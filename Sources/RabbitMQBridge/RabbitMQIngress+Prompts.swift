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
            accept(WaitingPrompt(delivery: delivery, prompt: prompt, received: .now))
        }
    }

    private func accept(_ waiting: WaitingPrompt) {
        let prompt = waiting.prompt
        let delivery = waiting.delivery
        let metadata: Logger.Metadata = [
            "stream.id": "\(prompt.uid)", "amqp.redelivered": "\(delivery.redelivered)", "uid.source": "\(prompt.uidSource.rawValue)",
        ]
        // Its whole answer was confirmed and only the ack went missing (with a connection):
        // nothing to generate again. A new prompt that reuses the uid is answered as usual.
        if delivery.redelivered, let completion = state.withLock({ $0.answered.lookup(prompt.uid) }) {
            logger.info(
                "prompt already answered, acknowledging it without calling the model",
                metadata: metadata.merging(["stream.epoch": "\(completion.epoch)"]) { $1 })
            connection.ack(delivery.tag)
            return
        }
        if prompt.uidSource == .generated {
            logger.info("prompt names no uid; generated one", metadata: metadata)
        } else if delivery.redelivered {
            logger.info("prompt redelivered; answering it again under a new epoch", metadata: metadata)
        }
        let queuedBehind = state.withLock { state -> Bool in
            guard state.isHeld(now: .now) || !state.waiting.isEmpty else { return false }
            state.enqueue(waiting)
            return true
        }
        if queuedBehind {
            scheduleWaitingExpiry(for: waiting)
            startWaiting()
        } else if !start(waiting, atFront: false) {
            startWaiting()
        }
    }

    /// Starts a stream for the prompt. Returns false when the pipeline is full: the prompt then
    /// waits (its delivery stays unacked) at the front or the back of the line.
    @discardableResult
    func start(_ waiting: WaitingPrompt, atFront: Bool) -> Bool {
        let prompt = waiting.prompt
        let tag = waiting.delivery.tag
        let uid = prompt.uid
        let deadline = waiting.received + configuration.consumerTimeout - configuration.deadlineMargin
        if deadline - .now < configuration.deadlineMargin {
            // It waited nearly as long as the broker allows: back to the queue for a fresh clock.
            connection.reject(tag, requeue: true)
            return true
        }
        let sink = makeSink(for: waiting)
        // One check-and-insert: a second prompt with this uid cannot slip in between.
        let admitted = state.withLock { state -> Admission in
            guard state.session == tag.session else { return .sessionGone }
            guard state.inFlight[uid] == nil else { return .busy }
            state.inFlight[uid] = InFlightPrompt(delivery: waiting.delivery, prompt: prompt, sink: sink, received: waiting.received)
            return .admitted
        }
        switch admitted {
        case .sessionGone:
            return true  // the broker took it back with its session
        case .busy:
            refuseBusy(waiting)
            return true
        case .admitted:
            break
        }
        do {
            // Its response queue it has anyway; naming other sinks is checked like an HTTP request's.
            let named = try sinks.resolve(prompt.request.sinks, own: "rabbitmq")
            let others = sinks.sinks(named, for: uid, model: pipeline.model(for: prompt.request))
            let run = try pipeline.start(prompt.request, sinks: [sink] + others, deadline: deadline)
            let orphaned = state.withLock { state -> Bool in
                guard state.inFlight[uid]?.delivery.tag == tag else { return true }
                state.inFlight[uid]?.run = run
                return false
            }
            if orphaned {
                // Its session ended while the stream was starting: the broker has the prompt back.
                sink.silence()
                run.fail(StreamFailure(code: .requeued, message: "The broker connection was lost; the prompt went back to the queue."))
            } else {
                logger.debug("prompt started", metadata: ["stream.id": "\(uid)", "stream.epoch": "\(run.epoch)"])
            }
            return true
        } catch {
            state.withLock { state in
                if state.inFlight[uid]?.delivery.tag == tag { state.inFlight[uid] = nil }
            }
            return handleStartFailure(error, waiting, atFront: atFront)
        }
    }

    private enum Admission {
        case admitted
        case busy
        case sessionGone
    }

    private func makeSink(for waiting: WaitingPrompt) -> ResponseQueueSink {
        let prompt = waiting.prompt
        let uid = prompt.uid
        let tag = waiting.delivery.tag
        let encoder = ResponseMessageEncoder(
            format: configuration.format, target: prompt.target, queueExpires: configuration.queueExpires,
            deliveryMode: configuration.deliveryMode, uid: uid, correlationID: prompt.correlationID,
            model: pipeline.model(for: prompt.request))
        return ResponseQueueSink(
            connection: connection, encoder: encoder, coalesceWindow: configuration.coalesceWindow,
            onFailure: { [weak self] failure in self?.sinkFailed(uid: uid, tag: tag, failure) },
            onSettled: { [weak self] settlement in self?.settled(uid: uid, tag: tag, settlement) })
    }

    private func handleStartFailure(_ error: RequestError, _ waiting: WaitingPrompt, atFront: Bool) -> Bool {
        let prompt = waiting.prompt
        switch error.kind {
        case .overloaded:
            let queued = state.withLock { state -> Bool in
                guard state.consuming else { return false }
                if atFront { state.waiting.insert(waiting, at: 0) } else { state.enqueue(waiting) }
                return true
            }
            if queued {
                if !atFront { scheduleWaitingExpiry(for: waiting) }
            } else {
                connection.reject(waiting.delivery.tag, requeue: true)
            }
            return false
        case .unavailable:
            connection.reject(waiting.delivery.tag, requeue: true)
        case .conflict:
            refuseBusy(waiting)
        case .invalid, .unsupported:
            deadLetter(
                waiting.delivery,
                PromptRejection(
                    code: .invalidRequest, reason: error.message, target: prompt.target, uid: prompt.uid,
                    correlationID: prompt.correlationID))
        }
        return true
    }

    /// A stream with this uid runs already. A redelivered prompt is most likely that very prompt,
    /// from a session that just ended while its stream winds down: it waits its turn. A fresh one
    /// is a second prompt reusing a live uid, refused.
    private func refuseBusy(_ waiting: WaitingPrompt) {
        if waiting.delivery.redelivered {
            state.withLock { $0.enqueue(waiting) }
            scheduleWaitingExpiry(for: waiting)
            return
        }
        deadLetter(
            waiting.delivery,
            PromptRejection(
                code: .streamExists, reason: "A stream with uid '\(waiting.prompt.uid)' is already running.", target: nil,
                uid: waiting.prompt.uid, correlationID: waiting.prompt.correlationID))
    }

    /// Starts waiting prompts while the pipeline has room and the broker keeps up (called whenever
    /// a stream ends, the broker unblocks, or a hold ends).
    func startWaiting() {
        var lookedAgain = 0
        while let next = state.withLock({ state -> WaitingPrompt? in
            guard !state.waiting.isEmpty, !state.isHeld(now: .now) else { return nil }
            let next = state.waiting.removeFirst()
            if state.probing { state.probe = next.prompt.uid }
            return next
        }) {
            if start(next, atFront: true) { continue }
            state.withLock { state in
                if state.probe == next.prompt.uid { state.probe = nil }
            }
            // Full. A slot may have freed after the pipeline said so, its observer finding nobody
            // waiting yet: look again, a few times, rather than wait for the next stream to end.
            guard lookedAgain < 3, pipeline.activeCount < pipeline.configuration.maxConcurrentStreams else { return }
            lookedAgain += 1
        }
    }

    /// A waiting prompt must not outstay the broker's consumer timeout: when it nears it, it goes
    /// back to the queue (and comes back with a fresh clock).
    private func scheduleWaitingExpiry(for waiting: WaitingPrompt) {
        let expiry = waiting.received + configuration.consumerTimeout - configuration.deadlineMargin * 2
        connection.schedule(after: max(.zero, expiry - .now)) { [weak self] in
            guard let self else { return }
            let expired = self.state.withLock { state -> Bool in
                guard let index = state.waiting.firstIndex(where: { $0.delivery.tag == waiting.delivery.tag }) else { return false }
                state.waiting.remove(at: index)
                return true
            }
            if expired { self.connection.reject(waiting.delivery.tag, requeue: true) }
        }
    }

    // MARK: - Outcomes

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
                    state.answered.record(uid: uid, StreamCompletion(epoch: run.epoch, at: .now))
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
        requeued.sink.silence()
        let connection = self.connection
        // The stream ends before the prompt goes back, so its redelivery finds the uid free. Not
        // from here: this may run inside the stream's own delivery.
        Task {
            requeued.run?.fail(
                StreamFailure(code: .requeued, message: "The broker is not keeping up; the prompt went back to the queue."))
            connection.reject(tag, requeue: true)
        }
        connection.schedule(after: hold) { [weak self] in self?.startWaiting() }
    }
}

extension RabbitMQIngress.State {
    /// New prompts wait: the broker blocks publishing, a hold runs, or a probe is out.
    func isHeld(now: ContinuousClock.Instant) -> Bool {
        // A probe that is no longer in flight (given back, refused) holds nothing.
        brokerBlocked || holdUntil.map { now < $0 } ?? false || (probing && probe.map { inFlight[$0] != nil } ?? false)
    }

    mutating func enqueue(_ prompt: WaitingPrompt) {
        waiting.append(prompt)
    }
}
