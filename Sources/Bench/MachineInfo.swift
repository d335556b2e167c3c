#if canImport(Glibc)
    import Glibc
#endif

/// The machine a run measured: numbers only mean something next to it.
public struct MachineInfo: Sendable {
    public var cores: Int
    public var cpuModel: String

    public static func current() -> MachineInfo {
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let model = ProcFile.read("/proc/cpuinfo")?
            .split(separator: "\n")
            .first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?
            .trimmingPrefix(" ")
        return MachineInfo(cores: cores, cpuModel: model.map(String.init) ?? "unknown")
    }
}
