/// `tokenbridge bench`: drives an OpenAI-compatible server (the bridge, or the mock directly)
/// with concurrent streaming chat requests and measures what comes back.
public enum Bench {
    /// How often the run looks at its counters and samples the target process.
    static let tick = Duration.milliseconds(100)

    /// Runs the load described by `options` and returns what was measured.
    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        let generator = try LoadGenerator(options: options)
        var sampler = options.pid.map(ProcessSampler.init)
        let ownCPUAtStart = ProcFile.cpuTime(of: "self")
        let start = ContinuousClock.now
        generator.begin()

        var window: MeasuredWindow?
        var progress = ProgressLine(start: start, enabled: options.showsProgress)
        var drainDeadline: ContinuousClock.Instant?
        while true {
            do {
                try await Task.sleep(for: tick)
            } catch {
                // Cancelled: stop at once rather than spin; what is in flight counts as stalled.
                generator.stopStarting()
                generator.abortRemaining()
                break
            }
            let now = ContinuousClock.now
            sampler?.update()
            if case .duration(let length) = options.length, window == nil, now - start >= length {
                generator.stopStarting()
                let tally = generator.snapshot()
                window = MeasuredWindow(
                    elapsed: now - start, completed: tally.completed, tokens: generator.tokensReceived)
            }
            let tally = generator.snapshot()
            progress.update(now: now, tally: tally, tokens: generator.tokensReceived)
            if tally.isFinished(options) { break }
            if !tally.mayStart(options) {
                let deadline = drainDeadline ?? now + options.drainTimeout
                drainDeadline = deadline
                if now >= deadline {
                    generator.abortRemaining()
                    break
                }
            }
        }
        let end = ContinuousClock.now
        generator.loop.shutdown()
        sampler?.update()
        let tally = generator.finalTally()
        let measured =
            window
            ?? MeasuredWindow(elapsed: (tally.lastEnd ?? end) - start, completed: tally.completed, tokens: tally.deltas)
        let ownCPU = ProcFile.cpuTime(of: "self").flatMap { now in ownCPUAtStart.map { now - $0 } }
        return BenchReport(
            options: options, tally: tally, window: measured, runTime: end - start, stallSeconds: progress.stallSeconds,
            target: sampler?.sample, benchCPU: ownCPU, machine: .current())
    }
}

/// The part of the run the rates are computed over.
struct MeasuredWindow: Sendable {
    var elapsed: Duration
    var completed: Int
    var tokens: Int
}

/// The once-per-second line on stderr, and the stall count it notices along the way.
struct ProgressLine {
    let start: ContinuousClock.Instant
    let enabled: Bool
    private var next: ContinuousClock.Instant
    private var lastTokens = 0
    private var lastCompleted = 0
    /// Seconds in which streams were in flight and not one token arrived.
    private(set) var stallSeconds = 0

    init(start: ContinuousClock.Instant, enabled: Bool) {
        self.start = start
        self.enabled = enabled
        next = start + .seconds(1)
    }

    mutating func update(now: ContinuousClock.Instant, tally: BenchTally, tokens: Int) {
        guard now >= next else { return }
        next = now + .seconds(1)
        let newTokens = tokens - lastTokens
        let newCompleted = tally.completed - lastCompleted
        lastTokens = tokens
        lastCompleted = tally.completed
        if newTokens == 0, tally.inFlight > 0 { stallSeconds += 1 }
        guard enabled else { return }
        let seconds = Int((now - start).components.seconds)
        StandardError.write(
            line: "bench \(seconds)s: in flight \(tally.inFlight), completed \(tally.completed) (+\(newCompleted)), "
                + "tokens +\(newTokens), errors \(tally.failed), lost \(tally.lostTokens)")
    }
}
