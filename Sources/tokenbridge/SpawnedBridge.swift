import Foundation
import Glibc

/// `bench --spawn`: a `mock-llm` and a bridge in front of it, both this same executable, started
/// on free loopback ports for one run and stopped after it.
struct SpawnedBridge {
    let mockURL: String
    let bridgeURL: String
    let mockPID: Int32
    let bridgePID: Int32
    private let processes: [Process]
    private let directory: URL

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    /// - Parameters:
    ///   - rate: the mock's tokens per second per stream (0 = as fast as it goes).
    ///   - streams: the load's concurrency, so the bridge admits it all.
    static func start(rate: Double, streams: Int) async throws -> SpawnedBridge {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenbridge-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let mockPort = try freePort()
        let bridgePort = try freePort()
        let config = """
            server: {host: 127.0.0.1, port: \(bridgePort)}
            llm: {provider: openai, url: "http://127.0.0.1:\(mockPort)/v1", model: bench, timeouts: {first_token: 60s}}
            pipeline: {max_concurrent_streams: \(max(1000, streams * 2))}
            log: {level: warning}
            """
        let configPath = directory.appendingPathComponent("bridge.yaml")
        try config.write(to: configPath, atomically: true, encoding: .utf8)
        let mock = try launch(
            executable, ["mock-llm", "--host", "127.0.0.1", "--port", "\(mockPort)", "--rate", "\(rate)", "--log-level", "warning"],
            log: directory.appendingPathComponent("mock-llm.log"))
        let bridge = try launch(executable, ["serve", "--config", configPath.path], log: directory.appendingPathComponent("bridge.log"))
        let spawned = SpawnedBridge(
            mockURL: "http://127.0.0.1:\(mockPort)/v1", bridgeURL: "http://127.0.0.1:\(bridgePort)/v1",
            mockPID: mock.processIdentifier, bridgePID: bridge.processIdentifier, processes: [bridge, mock], directory: directory)
        for (port, process, name) in [(mockPort, mock, "mock-llm"), (bridgePort, bridge, "bridge")] {
            guard await waitForListener(port: port, process: process) else {
                let log = (try? String(contentsOf: directory.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
                spawned.stop()
                throw SpawnError(description: "the spawned \(name) did not start listening on \(port):\n\(log.suffix(2000))")
            }
        }
        return spawned
    }

    /// SIGTERM to both, then waits for them; the scratch directory goes too.
    func stop() {
        for process in processes where process.isRunning { process.terminate() }
        for process in processes { process.waitUntilExit() }
        try? FileManager.default.removeItem(at: directory)
    }

    private static func launch(_ executable: String, _ arguments: [String], log: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw SpawnError(description: "cannot write \(log.path)")
        }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// A port the kernel says is free now (it could be taken before the child binds it; the
    /// wait below then fails with the child's log).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SpawnError(description: "socket failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw SpawnError(description: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// True once something accepts connections on the port, false if the process died or 20 s passed.
    private static func waitForListener(port: Int, process: Process) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, process.isRunning {
            if accepts(port: port) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
