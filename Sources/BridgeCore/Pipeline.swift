import Logging
import Synchronization

/// Runs streams: gives each its uid, epoch and seq, bounds how many run at once, remembers recent
/// completions, ends streams that outlive their deadline, and sees every one end with exactly one
/// terminal event.
public final class Pipeline: Sendable {
    public struct Configuration: Sendable {
        /// Streams running at once; the next one is refused (HTTP 429) rather than queued without bound.
        public var maxConcurrentStreams: Int
        /// The model used when a request names none.
        public var defaultModel: String
        /// Use `defaultModel` even when the request names another.
        public var forceModel: Bool
        /// How long a finished stream's events are kept (`journal`).
        public var retention: Duration
        /// The events of all streams together at most; beyond it the longest finished are forgotten.
        public var retentionMaxBytes: Int

        public init(
            maxConcurrentStreams: Int = 1000, defaultModel: String = "gpt-4o-mini", forceModel: Bool = false,
            retention: Duration = .seconds(600), retentionMaxBytes: Int = 16 << 20
        ) {
            self.maxConcurrentStreams = maxConcurrentStreams
            self.defaultModel = defaultModel
            self.forceModel = forceModel
            self.retention = retention
            self.retentionMaxBytes = retentionMaxBytes
        }
    }

    private struct State {
        var active: [String: StreamRun] = [:]
        var accepting = true
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        var capacityObservers: [@Sendable () -> Void] = []
        var deadlineSweeper: Task<Void, Never>?
        var started = 0
        /// Streams ended, by terminal event type (`done`, `error`, `cancelled`).
        var ended: [String: Int] = [:]
        /// Time to first token of the most recent streams.
        var firstTokens = LatencyWindow(capacity: 1000)
    }

    public let configuration: Configuration
    /// Every stream's events, for readers that attach late or resume (`GET /v1/streams/{uid}`).
    public let journal: StreamJournal
    private let client: any LLMClient
    private let logger: Logger
    private let state: Mutex<State>

    public init(client: any LLMClient, configuration: Configuration = Configuration(), logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        journal = StreamJournal(retention: configuration.retention, maxBytes: configuration.retentionMaxBytes)
        state = Mutex(State())
    }

    public var activeCount: Int { state.withLock { $0.active.count } }

    /// Time from a stream joining the pipeline to the model's first output, over the last 1000
    /// streams (p50, p99, how many).
    public var timeToFirstToken: (p50: Duration, p99: Duration, count: Int)? { state.withLock { $0.firstTokens.summary } }

    /// Streams started so far, and ended by terminal type: for `/metrics`.
    public var counts: (started: Int, ended: [String: Int]) { state.withLock { ($0.started, $0.ended) } }

    /// The model a request goes upstream with.
    public func model(for request: ChatRequest) -> String {
        if configuration.forceModel { return configuration.defaultModel }
        return request.model ?? configuration.defaultModel
    }

    /// Starts a stream and returns it running; its events go to `sinks` from the first (`start`) on.
    ///
    /// - Parameter deadline: when given, the stream ends with `deadline_exceeded` if it is still
    ///   running then (checked about every 250 ms).
    public func start(
        _ request: ChatRequest, sinks: [any EventSink], deadline: ContinuousClock.Instant? = nil
    ) throws(RequestError) -> StreamRun {
        let uid = request.uid ?? StreamID.generate()
        let model = model(for: request)
        // First, so that any event a sink has published is in the journal already.
        let sinks = [journal.sink(for: uid, sharedWithChannel: sinks.contains { $0.readsHistoryFromJournal })] + sinks
        let run = StreamRun(
            uid: uid, model: model, sinks: sinks, deadline: deadline, logger: logger,
            onFirstToken: { [weak self] latency in self?.state.withLock { $0.firstTokens.record(latency) } }
        ) { [weak self] run, terminal in
            self?.finished(run, terminal: terminal)
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
            state.started += 1
            if deadline != nil, state.deadlineSweeper == nil {
                state.deadlineSweeper = Task { [weak self] in await self?.sweepDeadlines() }
            }
        }
        logger.debug("stream started", metadata: ["stream.id": "\(uid)", "stream.model": "\(model)"])
        run.begin(client: client, request: UpstreamRequest(body: request.body, model: model, uid: uid))
        return run
    }

    /// The running stream with this uid.
    public func run(uid: String) -> StreamRun? {
        state.withLock { $0.active[uid] }
    }

    /// Cancels a running stream; false when no stream with that uid is running.
    @discardableResult
    public func cancel(uid: String) -> Bool {
        guard let run = state.withLock({ $0.active[uid] }) else { return false }
        run.cancel()
        return true
    }

    /// Calls `observer` (on whichever thread ends a stream) each time a stream ends and frees a slot:
    /// how an ingress that holds work back while the pipeline is full knows to try again.
    public func observeCapacity(_ observer: @escaping @Sendable () -> Void) {
        state.withLock { $0.capacityObservers.append(observer) }
    }

    // MARK: - Shutdown

    /// Refuses new streams from now on (HTTP 503), letting running ones go on.
    public func stopAccepting() {
        state.withLock { $0.accepting = false }
    }

    /// Waits up to `grace` for running streams to end, then ends the rest with a `shutdown` error.
    public func drain(grace: Duration) async {
        await waitUntilIdle(grace: grace)
        failRemaining(StreamFailure(code: .shutdown, message: "The bridge shut down before the answer was complete."))
    }

    /// Refuses new streams and waits up to `grace` for the running ones to end.
    public func waitUntilIdle(grace: Duration) async {
        stopAccepting()
        // The waiter is released by the last stream to finish or by this timer, whichever is first.
        let timer = Task {
            try? await Task.sleep(for: grace)
            self.releaseIdleWaiters()
        }
        await waitUntilIdle()
        timer.cancel()
    }

    /// Ends every stream still running with `failure`.
    public func failRemaining(_ failure: StreamFailure) {
        let remaining = state.withLock { Array($0.active.values) }
        if !remaining.isEmpty {
            logger.warning("grace period over, ending streams", metadata: ["streams": "\(remaining.count)"])
        }
        for run in remaining { run.fail(failure) }
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

    // MARK: - Bookkeeping

    private func finished(_ run: StreamRun, terminal: StreamEvent) {
        let (idle, observers) = state.withLock { state -> (Bool, [@Sendable () -> Void]) in
            guard state.active[run.uid] === run else { return (false, []) }
            state.active[run.uid] = nil
            state.ended[terminal.type, default: 0] += 1
            return (state.active.isEmpty, state.capacityObservers)
        }
        if idle { releaseIdleWaiters() }
        for observer in observers { observer() }
    }

    /// Ends streams past their deadline, while any stream has one.
    private func sweepDeadlines() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            let now = ContinuousClock.now
            let (expired, anyLeft) = state.withLock { state -> ([StreamRun], Bool) in
                let withDeadline = state.active.values.filter { $0.deadline != nil }
                if withDeadline.isEmpty { state.deadlineSweeper = nil }
                return (withDeadline.filter { $0.deadline.map { $0 <= now } ?? false }, !withDeadline.isEmpty)
            }
            for run in expired {
                logger.warning("stream ran past its deadline", metadata: ["stream.id": "\(run.uid)"])
                run.fail(
                    StreamFailure(
                        code: .deadlineExceeded,
                        message: "The answer took longer than its ingress allows (see ingress.rabbitmq.consumer_timeout)."))
            }
            if !anyLeft { return }
        }
    }
}

extension Pipeline: MetricsSource {
    public func writeMetrics(to metrics: inout MetricsText) {
        let (started, ended) = counts
        metrics.gauge("tokenbridge_streams_active", "Streams generating now.", Double(activeCount))
        metrics.counter("tokenbridge_streams_started_total", "Streams started.", Double(started))
        metrics.counters(
            "tokenbridge_streams_ended_total", "Streams ended, by terminal event.",
            ["done", "error", "cancelled"].map { ([("end", $0)], Double(ended[$0] ?? 0)) })
        if let ttft = timeToFirstToken {
            metrics.gauges(
                "tokenbridge_time_to_first_token_seconds", "Time to first token over the last streams (up to 1000), by quantile.",
                [([("quantile", "0.5")], ttft.p50.secondsValue), ([("quantile", "0.99")], ttft.p99.secondsValue)])
        }
        metrics.gauge("tokenbridge_journal_streams", "Streams whose events are kept (running, or finished within pipeline.retention).", Double(journal.streamCount))
        metrics.gauge("tokenbridge_journal_bytes", "Estimated size of the kept events (bounded by pipeline.retention_max_bytes).", Double(journal.heldBytes))
        metrics.gauge("tokenbridge_journal_waiting_readers", "GET /v1/streams readers waiting for a stream to start.", Double(journal.waitingReaderCount))
    }
}
