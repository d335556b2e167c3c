import Logging

/// `tokenbridge bench --ingress http --egress amqp|all`: streams started over HTTP, each read at
/// once on its SSE response, by channel subscribers and from its response queue, as asked.
public enum EgressBench {
    public static func run(_ options: EgressBenchOptions) async throws -> EgressBenchReport {
        FanoutBench.raiseDescriptorLimit()
        // The readers come first: a broker or a channel server that is not there fails the run
        // before a single stream starts, with a reason.
        let queues = try await openQueues(options)
        defer { queues?.shutdown() }
        let fleet = try await openFleet(options)
        defer { fleet?.stop() }
        let load = try EgressLoad(options: options, fleet: fleet, queues: queues)
        defer { load.loop.shutdown() }
        fleet?.onEvent = { [weak load] index, report in load?.channelReport(index, report) }
        queues?.onReport { [weak load] uid, report in load?.queueReport(uid, report) }
        fleet?.start()
        if let fleet { try await waitForSubscribers(fleet, options) }

        var sampler = options.pid.map(ProcessSampler.init)
        let ownCPUAtStart = ProcFile.cpuTime(of: "self")
        let start = ContinuousClock.now
        load.begin()
        var window: (elapsed: Duration, completed: Int, tokens: [Egress: Int])?
        var progress = EgressProgressLine(start: start, enabled: options.showsProgress)
        var drainDeadline: ContinuousClock.Instant?
        while true {
            try? await Task.sleep(for: Bench.tick)
            let now = ContinuousClock.now
            sampler?.update()
            queues?.expireIdle()
            if case .duration(let length) = options.length, window == nil, now - start >= length {
                load.stopStarting()
                window = (now - start, load.counters.completed, tokens(of: load, options))
            }
            let counters = load.counters
            progress.update(now: now, counters: counters, tokens: tokens(of: load, options))
            if counters.inFlight == 0 { break }
            if counters.stopped || Task.isCancelled {
                let deadline = drainDeadline ?? now + (Task.isCancelled ? .zero : options.drainTimeout)
                drainDeadline = deadline
                if now >= deadline {
                    load.abortRemaining()
                    // The readers answer an abandon at once; one that does not is counted unfinished.
                    let giveUp = ContinuousClock.now + .seconds(5)
                    while load.counters.inFlight > 0, ContinuousClock.now < giveUp { try? await Task.sleep(for: .milliseconds(20)) }
                    break
                }
            }
        }
        let end = ContinuousClock.now
        load.loop.shutdown()
        fleet?.stop()
        queues?.shutdown()
        sampler?.update()
        let counters = load.counters
        let measured = window ?? ((counters.lastEnd ?? end) - start, counters.completed, tokens(of: load, options))
        return EgressBenchReport(
            options: options,
            .init(
                counters: counters, histograms: load.histograms(), window: measured.elapsed, windowCompleted: measured.completed,
                windowTokens: measured.tokens, runTime: end - start, target: sampler?.sample,
                benchCPU: ProcFile.cpuTime(of: "self").flatMap { now in ownCPUAtStart.map { now - $0 } }))
    }

    private static func tokens(of load: EgressLoad, _ options: EgressBenchOptions) -> [Egress: Int] {
        Dictionary(uniqueKeysWithValues: options.ordered.map { ($0, load.tokensDelivered($0)) })
    }

    /// The response-queue reader's connections, open, or why they cannot be.
    private static func openQueues(_ options: EgressBenchOptions) async throws -> ResponseQueueObserver? {
        guard options.egresses.contains(.amqp) else { return nil }
        var logger = Logger(label: "bench")
        logger.logLevel = .critical  // a refused connection is reported below, once
        let queues = try ResponseQueueObserver(
            url: options.amqpURL, connections: min(options.amqpConnections, options.streams), idleTimeout: options.idleTimeout,
            logger: logger)
        try queues.begin()
        do {
            try await BrokerCheck.waitUntilOpen(url: options.amqpURL, timeout: .seconds(10), connections: queues.connections) {
                queues.isOpen
            }
        } catch {
            queues.shutdown()
            throw BenchError("cannot read the response queues: \(error)")
        }
        return queues
    }

    /// The channel subscribers' connections, handshaking (`waitForSubscribers` sees them through).
    private static func openFleet(_ options: EgressBenchOptions) async throws -> WebSocketFleet? {
        guard options.egresses.contains(.ws) else { return nil }
        guard let (host, port) = FanoutBench.hostAndPort(options.url) else {
            throw BenchError("--url must look like http://127.0.0.1:8080/v1")
        }
        let fleet = try WebSocketFleet(
            host: host, port: port, path: "/connection/websocket", busyPoll: options.busyPoll, idleTimeout: options.idleTimeout)
        try fleet.open(channels: Array(repeating: nil, count: options.subscriberCount))
        return fleet
    }

    private static func waitForSubscribers(_ fleet: WebSocketFleet, _ options: EgressBenchOptions) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while fleet.connected.load(ordering: .relaxed) < options.subscriberCount {
            if fleet.closed.load(ordering: .relaxed) > 0 || ContinuousClock.now >= deadline {
                throw BenchError(
                    "the channel server did not take \(options.subscriberCount) connections: "
                        + "\(fleet.connected.load(ordering: .relaxed)) connected, \(fleet.closed.load(ordering: .relaxed)) closed")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// The once-per-second line on stderr: streams, and tokens per egress since the last line.
struct EgressProgressLine {
    let start: ContinuousClock.Instant
    let enabled: Bool
    private var next: ContinuousClock.Instant
    private var last: [Egress: Int] = [:]
    private var lastCompleted = 0

    init(start: ContinuousClock.Instant, enabled: Bool) {
        self.start = start
        self.enabled = enabled
        next = start + .seconds(1)
    }

    mutating func update(now: ContinuousClock.Instant, counters: EgressLoad.Counters, tokens: [Egress: Int]) {
        guard enabled, now >= next else { return }
        next = now + .seconds(1)
        let perEgress = tokens.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) +\($0.value - (last[$0.key] ?? 0))" }
        let lost = counters.egress.values.reduce(0) { $0 + $1.lost + $1.duplicated + $1.outOfOrder }
        StandardError.write(
            line: "bench \(Int((now - start).components.seconds))s: in flight \(counters.inFlight), "
                + "completed \(counters.completed) (+\(counters.completed - lastCompleted)), tokens \(perEgress.joined(separator: ", ")), "
                + "errors \(counters.failed), lost/dup/reordered \(lost)")
        last = tokens
        lastCompleted = counters.completed
    }
}
