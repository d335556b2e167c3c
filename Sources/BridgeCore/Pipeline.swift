import Logging
import Synchronization

/// Runs streams: gives each its uid, epoch and seq, bounds how many run at once, and sees every
/// one end with exactly one terminal event.
public final class Pipeline: Sendable {
    public struct Configuration: Sendable {
        /// Streams running at once; the next one is refused (HTTP 429) rather than queued without bound.
        public var maxConcurrentStreams: Int
        /// The model used when a request names none.
        public var defaultModel: String
        /// Use `defaultModel` even when the request names another.
        public var forceModel: Bool

        public init(maxConcurrentStreams: Int = 1000, defaultModel: String = "gpt-4o-mini", forceModel: Bool = false) {
            self.maxConcurrentStreams = maxConcurrentStreams
            self.defaultModel = defaultModel
            self.forceModel = forceModel
        }
    }

    private struct State {
        var active: [String: StreamRun] = [:]
        var accepting = true
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public let configuration: Configuration
    private let client: any LLMClient
    private let logger: Logger
    private let state = Mutex(State())

    public init(client: any LLMClient, configuration: Configuration = Configuration(), logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    public var activeCount: Int { state.withLock { $0.active.count } }

    /// The model a request goes upstream with.
    public func model(for request: ChatRequest) -> String {
        if configuration.forceModel { return configuration.defaultModel }
        return request.model ?? configuration.defaultModel
    }

    /// Starts a stream and returns it running; its events go to `sinks` from the first (`start`) on.
    public func start(_ request: ChatRequest, sinks: [any EventSink]) throws(RequestError) -> StreamRun {
        let uid = request.uid ?? StreamID.generate()
        let model = model(for: request)
        let run = StreamRun(uid: uid, model: model, sinks: sinks, logger: logger) { [weak self] run in
            self?.finished(run)
        }
        try state.withLock { (state) throws(RequestError) in
            guard state.accepting else {
                throw RequestError(.unavailable, "The bridge is shutting down.", code: "shutting_down")
            }
            guard state.active[uid] == nil else {
                throw RequestError(.conflict, "A stream with uid '\(uid)' is already running.", param: "uid", code: "stream_exists")
            }
            guard state.active.count < configuration.maxConcurrentStreams else {
                throw RequestError(
                    .overloaded,
                    "Too many concurrent streams (limit \(configuration.maxConcurrentStreams)); retry shortly.",
                    code: "rate_limit_exceeded")
            }
            state.active[uid] = run
        }
        logger.debug("stream started", metadata: ["stream.id": "\(uid)", "stream.model": "\(model)"])
        run.begin(client: client, request: UpstreamRequest(body: request.body, model: model, uid: uid))
        return run
    }

    /// Cancels a running stream; false when no stream with that uid is running.
    @discardableResult
    public func cancel(uid: String) -> Bool {
        guard let run = state.withLock({ $0.active[uid] }) else { return false }
        run.cancel()
        return true
    }

    /// Refuses new streams from now on (HTTP 503), letting running ones go on.
    public func stopAccepting() {
        state.withLock { $0.accepting = false }
    }

    /// Waits up to `grace` for running streams to end, then ends the rest with a `shutdown` error.
    public func drain(grace: Duration) async {
        stopAccepting()
        // The waiter is released by the last stream to finish or by this timer, whichever is first.
        let timer = Task {
            try? await Task.sleep(for: grace)
            self.releaseIdleWaiters()
        }
        await waitUntilIdle()
        timer.cancel()
        let remaining = state.withLock { Array($0.active.values) }
        if !remaining.isEmpty {
            logger.warning("grace period over, ending streams", metadata: ["streams": "\(remaining.count)"])
        }
        for run in remaining {
            run.fail(StreamFailure(code: .shutdown, message: "The bridge shut down before the answer was complete."))
        }
    }

    private func releaseIdleWaiters() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.idleWaiters = [] }
            return state.idleWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                if state.active.isEmpty { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func finished(_ run: StreamRun) {
        let idle = state.withLock { state -> Bool in
            if state.active[run.uid] === run { state.active[run.uid] = nil }
            return state.active.isEmpty
        }
        if idle { releaseIdleWaiters() }
    }
}
