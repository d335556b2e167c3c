import BridgeCore
import Curl
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

    /// The broker the spawned bridge uses: its queue ingress consumes `queue`, and the
    /// `rabbitmq` sink (which only a bridge with that ingress has) writes `response_<uid>`.
    struct RabbitMQ {
        var url: String
        var queue: String
    }

    /// - Parameters:
    ///   - rate: the mock's tokens per second per stream (0 = as fast as it goes).
    ///   - tokens: the mock's answer length when a request does not say.
    ///   - streams: the load's concurrency, so the bridge admits it all.
    ///   - rabbitMQ: turns the bridge's queue ingress on, on this broker; the start then waits
    ///     until the bridge reports the broker connection up.
    static func start(rate: Double, tokens: Int, streams: Int, rabbitMQ: RabbitMQ? = nil) async throws -> SpawnedBridge {
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
            executable,
            ["mock-llm", "--host", "127.0.0.1", "--port", "\(mockPort)", "--rate", "\(rate)", "--tokens", "\(tokens)", "--log-level", "warning"],
            log: directory.appendingPathComponent("mock-llm.log"))
        // The environment beats any file and any inherited RABBITMQ_URL: the bench's broker it is.
        let broker: [String: String] =
            rabbitMQ.map {
                ["TOKENBRIDGE_INGRESS_RABBITMQ_ENABLED": "true", "TOKENBRIDGE_INGRESS_RABBITMQ_URL": $0.url, "TOKENBRIDGE_INGRESS_RABBITMQ_QUEUE": $0.queue]
            } ?? [:]
        let bridge = try launch(
            executable, ["serve", "--config", configPath.path], log: directory.appendingPathComponent("bridge.log"), environment: broker)
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
        if let rabbitMQ {
            do {
                try await waitForBroker(healthURL: "http://127.0.0.1:\(bridgePort)/health", process: bridge)
            } catch {
                spawned.stop()
                throw SpawnError(description: "the spawned bridge could not use RabbitMQ at \(rabbitMQ.url): \(error)")
            }
        }
        return spawned
    }

    /// Until `/health` says `checks.rabbitmq.status` is `up`; at most 20 s.
    private static func waitForBroker(healthURL: String, process: Process) async throws {
        let loop = try CurlMultiLoop(name: "bench-health")
        defer { loop.shutdown() }
        let deadline = ContinuousClock.now + .seconds(20)
        var last = "no answer"
        while ContinuousClock.now < deadline, process.isRunning {
            let response = try? await loop.perform(CurlRequest(url: healthURL, method: "GET", totalTimeout: .seconds(2)))
            if let response {
                let check = (try? JSONParser.parse(response.body))?.objectValue?["checks"]?.objectValue?["rabbitmq"]
                if check?.objectValue?["status"]?.stringValue == "up" { return }
                last = check.map { $0.jsonString } ?? "no rabbitmq check in /health"
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SpawnError(description: process.isRunning ? "the broker connection is not up after 20 s (\(last))" : "the bridge exited")
    }

    /// SIGTERM to both, then waits for them; the scratch directory goes too.
    func stop() {
        for process in processes where process.isRunning { process.terminate() }
        for process in processes { process.waitUntilExit() }
        try? FileManager.default.removeItem(at: directory)
    }

    private static func launch(_ executable: String, _ arguments: [String], log: URL, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
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
