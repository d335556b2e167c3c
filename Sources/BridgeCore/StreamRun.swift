import Logging
import Synchronization

/// One run of one stream: numbers its events and guarantees exactly one terminal event, whichever
/// of the model, a cancel or a shutdown gets there first.
public final class StreamRun: LLMReceiver, Sendable {
    public let uid: String
    public let epoch: String
    public let model: String
    /// When set, the pipeline ends the stream with `deadline_exceeded` at this instant.
    public let deadline: ContinuousClock.Instant?

    private struct State {
        var nextSeq = 1
        var finished = false
        var call: (any LLMCall)?
        var cancelRequested = false
        var finishReason: String?
        var usage: Usage?
        /// Set by `begin`: until then an end (a cancel racing the start) waits here, so that the
        /// stream still opens with `start` and the model is never called.
        var begun = false
        var endBeforeBegin: StreamEvent.Kind?
        var firstTokenSeen = false
    }

    private let sinks: [any EventSink]
    private let logger: Logger
    private let onFinish: @Sendable (StreamRun, StreamEvent) -> Void
    /// From the pipeline taking the stream to the model's first piece of output (text,
    /// reasoning or a tool call), reported once.
    private let onFirstToken: @Sendable (Duration) -> Void
    private let createdAt = ContinuousClock.now
    private let state = Mutex(State())

    init(
        uid: String, model: String, sinks: [any EventSink], deadline: ContinuousClock.Instant? = nil, logger: Logger,
        onFirstToken: @escaping @Sendable (Duration) -> Void = { _ in },
        onFinish: @escaping @Sendable (StreamRun, StreamEvent) -> Void
    ) {
        self.onFirstToken = onFirstToken
        self.uid = uid
        self.epoch = StreamID.generateEpoch()
        self.model = model
        self.deadline = deadline
        self.sinks = sinks
        self.logger = logger
        self.onFinish = onFinish
    }

    public var isFinished: Bool { state.withLock { $0.finished } }

    func begin(client: any LLMClient, request: UpstreamRequest) {
        emit(.start(epoch: epoch, model: model))
        let earlyEnd = state.withLock { state -> StreamEvent.Kind? in
            state.begun = true
            return state.endBeforeBegin
        }
        if let earlyEnd {
            finish(with: earlyEnd, cancelCall: false)
            return
        }
        let call = client.start(request, receiver: self)
        let cancelNow = state.withLock { state -> Bool in
            // The call holds this run as its receiver: keep it only while the run is live, or
            // the two keep each other (and the sinks) alive forever.
            if !state.finished { state.call = call }
            return state.cancelRequested
        }
        if cancelNow { call.cancel() }
    }

    /// Ends the stream with `cancelled` and aborts the model call.
    public func cancel() {
        finish(with: .cancelled, cancelCall: true)
    }

    /// Ends the stream with an error and aborts the model call.
    public func fail(_ failure: StreamFailure) {
        finish(with: .error(failure), cancelCall: true)
    }

    // MARK: - LLMReceiver

    public func llmDidProduce(_ output: LLMOutput) {
        llmDidProduce(contentsOf: [output])
    }

    /// One lock for the whole piece, and the sinks get its events together.
    public func llmDidProduce(contentsOf outputs: [LLMOutput]) {
        let firstTokenAt = state.withLock { state -> ContinuousClock.Instant? in
            var firstTokenAt: ContinuousClock.Instant?
            if !state.firstTokenSeen, outputs.contains(where: \.isToken) {
                state.firstTokenSeen = true
                if !state.finished { firstTokenAt = .now }
            }
            guard !state.finished else { return firstTokenAt }
            var events: [StreamEvent] = []
            events.reserveCapacity(outputs.count)
            for output in outputs {
                let kind: StreamEvent.Kind
                switch output {
                case .text(let text) where !text.isEmpty: kind = .delta(text: text)
                case .reasoning(let text) where !text.isEmpty: kind = .reasoning(text: text)
                case .toolCall(let call): kind = .toolCall(call)
                case .finishReason(let reason):
                    state.finishReason = reason
                    continue
                case .usage(let usage):
                    state.usage = usage
                    continue
                case .text, .reasoning:
                    continue
                }
                events.append(StreamEvent(uid: uid, seq: state.nextSeq, kind: kind))
                state.nextSeq += 1
            }
            // Under the lock, so every sink sees events in seq order.
            if !events.isEmpty {
                for sink in sinks { sink.deliver(contentsOf: events) }
            }
            return firstTokenAt
        }
        // Reported outside the lock; the instant was taken before the sinks saw the token.
        if let firstTokenAt { onFirstToken(firstTokenAt - createdAt) }
    }

    public func llmDidFinish(_ failure: StreamFailure?) {
        if let failure {
            logger.info("stream failed", metadata: ["stream.id": "\(uid)", "error": "\(failure)"])
            finish(with: .error(failure), cancelCall: false)
        } else {
            let (reason, usage) = state.withLock { ($0.finishReason, $0.usage) }
            finish(with: .done(finishReason: reason ?? "stop", usage: usage), cancelCall: false)
        }
    }

    // MARK: - Internals

    private func finish(with kind: StreamEvent.Kind, cancelCall: Bool) {
        let (terminal, call) = state.withLock { state -> (StreamEvent?, (any LLMCall)?) in
            guard !state.finished else { return (nil, nil) }
            guard state.begun else {
                if state.endBeforeBegin == nil { state.endBeforeBegin = kind }
                return (nil, nil)
            }
            state.cancelRequested = cancelCall
            let event = deliver(kind, state: &state)
            state.finished = true
            let call = state.call
            state.call = nil
            return (event, cancelCall ? call : nil)
        }
        call?.cancel()
        if let terminal { onFinish(self, terminal) }
    }

    private func emit(_ kind: StreamEvent.Kind) {
        state.withLock { state in
            guard !state.finished else { return }
            deliver(kind, state: &state)
        }
    }

    /// Called with the lock held so every sink sees events in seq order, whatever thread sent them.
    @discardableResult
    private func deliver(_ kind: StreamEvent.Kind, state: inout State) -> StreamEvent {
        let event = StreamEvent(uid: uid, seq: state.nextSeq, kind: kind)
        state.nextSeq += 1
        for sink in sinks { sink.deliver(event) }
        return event
    }
}
