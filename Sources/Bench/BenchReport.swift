/// What a run measured. Rendered as a table (`text`) or JSON (`json`).
public struct BenchReport: Sendable {
    public var url: String
    public var streams: Int
    public var tokens: Int
    public var length: BenchOptions.Length
    /// The time the rates are computed over: the run's duration, or until the last stream ended
    /// when a number of rounds was asked for.
    public var measured: Duration
    /// From the first start to the end, drain included.
    public var runTime: Duration
    public var started: Int
    public var completed: Int
    public var errors: Int
    public var stalled: Int
    public var incomplete: Int
    public var lostTokens: Int
    public var extraTokens: Int
    public var streamsPerSecond: Double
    public var tokensPerSecond: Double
    public var timeToFirstToken: Percentiles?
    /// Model to client, per token, when the run stamped them (`--stamp`).
    public var tokenLatency: Percentiles?
    /// Stamped tokens that overtook an earlier one (must be zero).
    public var outOfOrder: Int
    /// Seconds during which streams were in flight and no token arrived at all.
    public var stallSeconds: Int
    /// The most frequent causes of failure, most frequent first.
    public var failures: [FailureSummary]
    public var targetPID: Int32?
    public var target: ProcessSample?
    /// CPU used by the target process and by this process, as a percentage of one core over `runTime`.
    public var targetCPUPercent: Double?
    public var benchCPUPercent: Double?
    public var machine: MachineInfo

    /// At most this many distinct causes are reported.
    static let failureLimit = 8

    init(
        options: BenchOptions, tally: BenchTally, window: MeasuredWindow, runTime: Duration, stallSeconds: Int,
        target: ProcessSample?, benchCPU: Duration?, machine: MachineInfo
    ) {
        url = options.url
        streams = options.streams
        tokens = options.tokens
        length = options.length
        measured = window.elapsed
        self.runTime = runTime
        started = tally.started
        completed = tally.completed
        errors = tally.failed
        stalled = tally.stalled
        incomplete = tally.incomplete
        lostTokens = tally.lostTokens
        extraTokens = tally.extraTokens
        let seconds = window.elapsed.seconds
        streamsPerSecond = seconds > 0 ? Double(window.completed) / seconds : 0
        tokensPerSecond = seconds > 0 ? Double(window.tokens) / seconds : 0
        timeToFirstToken = Percentiles(tally.timeToFirstToken)
        tokenLatency = Percentiles(tally.tokenLatencies)
        outOfOrder = tally.outOfOrder
        self.stallSeconds = stallSeconds
        failures = FailureSummary.mostFrequent(tally.failures.values)
        targetPID = options.pid
        self.target = target
        targetCPUPercent = target?.cpuTime?.percentOfOneCore(over: runTime)
        benchCPUPercent = benchCPU?.percentOfOneCore(over: runTime)
        self.machine = machine
    }

    /// Whether every stream completed with exactly the asked number of tokens.
    public var isClean: Bool {
        errors == 0 && incomplete == 0 && lostTokens == 0 && extraTokens == 0 && outOfOrder == 0
    }
}

extension Duration {
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }

    var milliseconds: Double { seconds * 1000 }

    /// This much CPU time as a percentage of one core over `run` (0 for an empty run).
    func percentOfOneCore(over run: Duration) -> Double {
        run > .zero ? seconds / run.seconds * 100 : 0
    }
}
