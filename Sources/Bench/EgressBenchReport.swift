/// What an `--egress amqp|all` run measured: the streams, then one line per egress.
public struct EgressBenchReport: Sendable {
    /// One egress over the whole run.
    public struct Line: Sendable {
        public var egress: Egress
        /// Readers that ended a stream here (streams x subscribers for the channel).
        public var readers: Int
        public var completed: Int
        public var failed: Int
        public var tokens: Int
        public var expectedTokens: Int
        public var lost: Int
        public var duplicated: Int
        public var outOfOrder: Int
        /// Over the measured window.
        public var tokensPerSecond: Double
        /// Request sent to the first token on this egress.
        public var timeToFirstToken: Percentiles?
        /// The model's stamp to arrival here, per token.
        public var tokenLatency: Percentiles?

        public var isClean: Bool { failed == 0 && lost == 0 && duplicated == 0 && outOfOrder == 0 && tokens == expectedTokens }
    }

    public var url: String
    public var amqpURL: String?
    public var streams: Int
    public var tokens: Int
    public var subscribersPerStream: Int
    public var rate: Double
    public var length: BenchOptions.Length
    public var measured: Duration
    public var runTime: Duration
    public var started: Int
    public var completed: Int
    public var errors: Int
    public var stalled: Int
    /// Streams still in flight when the run gave up waiting for their readers.
    public var unfinished: Int
    public var streamsPerSecond: Double
    /// The refusal that stopped the run early (the same request would always get it).
    public var fatal: String?
    public var lines: [Line]
    public var failures: [FailureSummary]
    public var targetPID: Int32?
    public var target: ProcessSample?
    public var targetCPUPercent: Double?
    public var benchCPUPercent: Double?
    public var machine: MachineInfo

    /// What the run loop measured, put together.
    struct Measurements {
        var counters: EgressLoad.Counters
        var histograms: [Egress: EgressHistograms]
        var window: Duration
        var windowCompleted: Int
        var windowTokens: [Egress: Int]
        var runTime: Duration
        var target: ProcessSample?
        var benchCPU: Duration?
    }

    init(options: EgressBenchOptions, _ measured: Measurements) {
        url = options.url
        amqpURL = options.egresses.contains(.amqp) ? options.amqpURL : nil
        streams = options.streams
        tokens = options.tokens
        subscribersPerStream = options.egresses.contains(.ws) ? options.subscribersPerStream : 0
        rate = options.rate
        length = options.length
        self.measured = measured.window
        runTime = measured.runTime
        let counters = measured.counters
        started = counters.started
        completed = counters.completed
        errors = counters.failed
        stalled = counters.stalled
        unfinished = counters.inFlight
        fatal = counters.fatal
        let seconds = measured.window.seconds
        streamsPerSecond = seconds > 0 ? Double(measured.windowCompleted) / seconds : 0
        lines = options.ordered.map { egress in
            let tally = counters.egress[egress] ?? EgressTally()
            let histograms = measured.histograms[egress] ?? EgressHistograms()
            return Line(
                egress: egress, readers: tally.readers, completed: tally.completed, failed: tally.failed, tokens: tally.tokens,
                expectedTokens: tally.expectedTokens, lost: tally.lost, duplicated: tally.duplicated, outOfOrder: tally.outOfOrder,
                tokensPerSecond: seconds > 0 ? Double(measured.windowTokens[egress] ?? 0) / seconds : 0,
                timeToFirstToken: Percentiles(histograms.timeToFirstToken), tokenLatency: Percentiles(histograms.tokenLatency))
        }
        failures = FailureSummary.mostFrequent(counters.failures.values)
        targetPID = options.pid
        target = measured.target
        targetCPUPercent = measured.target?.cpuTime?.percentOfOneCore(over: measured.runTime)
        benchCPUPercent = measured.benchCPU?.percentOfOneCore(over: measured.runTime)
        machine = .current()
    }

    /// Streams ran, all of them complete, and no egress lost, repeated or reordered a token.
    public var isClean: Bool {
        fatal == nil && started > 0 && errors == 0 && unfinished == 0 && lines.allSatisfy(\.isClean)
    }

    /// Tokens delivered per second over every egress together.
    public var allEgressesTokensPerSecond: Double { lines.reduce(0) { $0 + $1.tokensPerSecond } }
}

extension EgressBenchReport: ComparedRun {
    /// The first egress's (the SSE's when it is read): one reader per stream, as the baseline.
    public var tokensPerSecond: Double { lines.first?.tokensPerSecond ?? 0 }
    public var timeToFirstToken: Percentiles? { lines.first?.timeToFirstToken }
    public var egressTimeToFirstToken: [(name: String, percentiles: Percentiles?)] {
        lines.map { ($0.egress.rawValue, $0.timeToFirstToken) }
    }
}
