/// What a run observed of the process given with `--pid`.
public struct ProcessSample: Sendable {
    /// The kernel's high-water mark of resident memory (VmHWM), since the process started.
    public var peakResidentBytes: Int?
    /// Resident memory at the last sample (VmRSS).
    public var residentBytes: Int?
    /// The largest VmRSS seen by this run's samples.
    public var maxSampledResidentBytes: Int?
    /// CPU time (user + system) the process used during the run.
    public var cpuTime: Duration?
}

/// Samples a process's memory and CPU from `/proc` while a run goes on.
struct ProcessSampler: Sendable {
    let pid: Int32
    private let cpuAtStart: Duration?
    private(set) var sample = ProcessSample()

    init(pid: Int32) {
        self.pid = pid
        cpuAtStart = ProcFile.cpuTime(of: String(pid))
        update()
    }

    /// Takes one sample; returns false once the process is gone.
    @discardableResult
    mutating func update() -> Bool {
        guard let status = ProcFile.read("/proc/\(pid)/status") else { return false }
        sample.peakResidentBytes = ProcFile.statusKilobytes(status, key: "VmHWM")
        let resident = ProcFile.statusKilobytes(status, key: "VmRSS")
        sample.residentBytes = resident
        if let resident { sample.maxSampledResidentBytes = max(sample.maxSampledResidentBytes ?? 0, resident) }
        if let start = cpuAtStart, let now = ProcFile.cpuTime(of: String(pid)) { sample.cpuTime = now - start }
        return true
    }
}
