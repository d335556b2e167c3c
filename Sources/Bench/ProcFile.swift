#if canImport(Glibc)
    import Glibc
#endif

/// Reads Linux `/proc` files, whose reported size is 0, so they are read until end of file.
enum ProcFile {
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes.append(contentsOf: buffer[..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A `Key:   1234 kB` line of `/proc/PID/status`, in bytes.
    static func statusKilobytes(_ status: String, key: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix(key + ":") {
            // The value is padded with a tab and spaces: "VmHWM:\t   51234 kB".
            let number = line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            return number.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// User plus system CPU time of a process (`"self"` or a pid) from `/proc/PID/stat`.
    static func cpuTime(of process: String) -> Duration? {
        // The command name (field 2) may hold spaces and parentheses: fields are counted after the
        // last ')'. utime and stime are fields 14 and 15, so the 12th and 13th after it.
        guard let stat = read("/proc/\(process)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        let ticks = max(1, sysconf(Int32(_SC_CLK_TCK)))
        return .milliseconds((user + system) * 1000 / ticks)
    }
}
