import BridgeCore
import Curl
import Dispatch
import Glibc

/// `tokenbridge bench --egress ws`: streams through the bridge to subscribers of the embedded
/// channel server, or the memory of idle connections.
public struct FanoutOptions: Sendable {
    /// `http://host:port/v1` of the bridge.
    public var url: String
    public var streams: Int
    public var subscribersPerStream: Int
    public var tokens: Int
    /// Tokens per second per stream; 0 = as fast as the simulated model goes.
    public var rate: Double
    /// Open this many idle connections instead, and report the bridge's memory per connection.
    public var idleConnections: Int?
    public var pid: Int32?
    /// The subscribers' thread spins on its sockets instead of sleeping between publications.
    /// On a machine shared with the bridge, a sleeping client makes every send of the bridge pay
    /// for waking it (an inter-processor interrupt, dear in a VM); a client on another machine
    /// never charges the bridge that. Costs one core.
    public var busyPoll: Bool
    public var timeout: Duration
    /// A line on stderr once per second while the publications come in.
    public var showsProgress: Bool

    public init(
        url: String, streams: Int, subscribersPerStream: Int, tokens: Int, rate: Double, idleConnections: Int? = nil,
        pid: Int32? = nil, busyPoll: Bool = false, timeout: Duration = .seconds(120), showsProgress: Bool = true
    ) {
        self.busyPoll = busyPoll
        self.showsProgress = showsProgress
        self.url = url
        self.streams = streams
        self.subscribersPerStream = subscribersPerStream
        self.tokens = tokens
        self.rate = rate
        self.idleConnections = idleConnections
        self.pid = pid
        self.timeout = timeout
    }
}

public enum FanoutBench {
    public static func run(_ options: FanoutOptions) async throws -> FanoutReport {
        raiseDescriptorLimit()
        guard let (host, port) = hostAndPort(options.url) else { throw BenchError("--url must look like http://127.0.0.1:8080/v1") }
        let fleet = try WebSocketFleet(host: host, port: port, path: "/connection/websocket", busyPoll: options.busyPoll)
        let runID = StreamID.generateEpoch()
        let idle = options.idleConnections
        let uids = (0..<(idle == nil ? options.streams : 0)).map { "bench-\(runID)-\($0)" }
        let channels = idle.map { count in (0..<count).map { "idle-\(runID)-\($0)" } }
            ?? uids.flatMap { uid in Array(repeating: "stream_\(uid)", count: options.subscribersPerStream) }
        let rssBefore = options.pid.flatMap(residentBytes)
        try fleet.open(channels: channels)
        fleet.start()
        defer { fleet.stop() }
        try await waitUntil(deadline: .now + options.timeout) { fleet.ready.load(ordering: .relaxed) == channels.count }
        var report = FanoutReport(options: options, connections: channels.count)
        if let idle {
            // Let the bridge settle (allocations from the handshakes), then read its memory.
            try await Task.sleep(for: .seconds(1))
            if let before = rssBefore, let after = options.pid.flatMap(residentBytes) {
                report.idleBytesPerConnection = Double(after - before) / Double(idle)
            }
            report.bridgeRSS = options.pid.flatMap(residentBytes)
            return report
        }
        let curl = try CurlMultiLoop(name: "bench-http")
        defer { curl.shutdown() }
        let started = ContinuousClock.now
        let cpuBefore = options.pid.flatMap { ProcFile.cpuTime(of: String($0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for uid in uids {
                group.addTask { try await startStream(uid: uid, options: options, curl: curl) }
            }
            try await group.waitForAll()
        }
        var progress = FanoutProgress(start: started, enabled: options.showsProgress)
        try await waitUntil(deadline: started + options.timeout) {
            progress.update(fleet: fleet, connections: channels.count)
            return fleet.finished.load(ordering: .relaxed) + fleet.closed.load(ordering: .relaxed) >= channels.count
        }
        fleet.stop()
        report.fill(from: fleet)
        report.bridgeRSS = options.pid.flatMap(residentBytes)
        if let before = cpuBefore, let pid = options.pid, let after = ProcFile.cpuTime(of: String(pid)) {
            report.bridgeCPUSeconds = (after - before).seconds
        }
        return report
    }

    private static func startStream(uid: String, options: FanoutOptions, curl: CurlMultiLoop) async throws {
        var mock = JSONObject()
        mock["tokens"] = .integer(Int64(options.tokens))
        mock["rate"] = .number(options.rate)
        mock["stamp"] = .bool(true)
        let body: JSONValue = ["uid": .string(uid), "messages": [["role": "user", "content": "fan-out"]], "mock": .object(mock)]
        let request = CurlRequest(
            url: BenchRequest.completionsURL(base: options.url), method: "POST",
            headers: [("Content-Type", "application/json")], body: body.jsonBytes, totalTimeout: options.timeout)
        let response = try await curl.perform(request)
        guard response.status == 200 else {
            throw BenchError("starting stream \(uid): HTTP \(response.status) \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
    }

    private static func waitUntil(deadline: ContinuousClock.Instant, _ condition: () -> Bool) async throws {
        while !condition() {
            guard ContinuousClock.now < deadline else { throw BenchError("timed out waiting for the connections") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func hostAndPort(_ url: String) -> (String, Int)? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let authority = url[schemeEnd.upperBound...].prefix { $0 != "/" }
        let parts = authority.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { return nil }
        return (parts[0] == "localhost" ? "127.0.0.1" : String(parts[0]), port)
    }

    static func residentBytes(_ pid: Int32) -> Int? {
        ProcFile.read("/proc/\(pid)/status").flatMap { ProcFile.statusKilobytes($0, key: "VmRSS") }
    }

    /// Thousands of sockets need more than the usual soft limit of 1024 descriptors.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
    }
}

/// The fan-out run's once-per-second line on stderr.
struct FanoutProgress {
    let start: ContinuousClock.Instant
    let enabled: Bool
    private var next: ContinuousClock.Instant
    private var lastReceived = 0

    init(start: ContinuousClock.Instant, enabled: Bool) {
        self.start = start
        self.enabled = enabled
        next = start + .seconds(1)
    }

    mutating func update(fleet: WebSocketFleet, connections: Int) {
        let now = ContinuousClock.now
        guard enabled, now >= next else { return }
        next = now + .seconds(1)
        let received = fleet.received.load(ordering: .relaxed)
        StandardError.write(
            line: "bench \(Int((now - start).components.seconds))s: publications +\(received - lastReceived), "
                + "subscribers finished \(fleet.finished.load(ordering: .relaxed)) of \(connections), "
                + "closed by the server \(fleet.closed.load(ordering: .relaxed))")
        lastReceived = received
    }
}

/// What a fan-out run measured.
public struct FanoutReport: Sendable {
    public var streams: Int
    public var subscribersPerStream: Int
    public var tokens: Int
    public var rate: Double
    public var busyPoll: Bool
    public var connections: Int
    public var delivered = 0
    public var deliveredPerSecond = 0.0
    /// Token send time (the simulated model) to arrival at a subscriber.
    public var latency: Percentiles?
    public var lost = 0
    public var duplicated = 0
    public var closedByServer: [UInt16] = []
    public var bridgeRSS: Int?
    public var bridgeCPUSeconds: Double?
    public var idleBytesPerConnection: Double?

    init(options: FanoutOptions, connections: Int) {
        streams = options.streams
        subscribersPerStream = options.subscribersPerStream
        tokens = options.tokens
        rate = options.rate
        busyPoll = options.busyPoll
        self.connections = connections
    }

    mutating func fill(from fleet: WebSocketFleet) {
        delivered = fleet.received.load(ordering: .relaxed)
        // From the model sending the first token to the last arrival anywhere.
        let span = Double(fleet.lastAt &- fleet.firstSentAt) / 1e9
        deliveredPerSecond = span > 0 ? Double(delivered) / span : 0
        latency = Percentiles(fleet.latency)
        let totals = fleet.totals
        lost = totals.lost
        duplicated = totals.duplicated
        closedByServer = totals.closedByServer
    }

    public var isClean: Bool { lost == 0 && duplicated == 0 && closedByServer.isEmpty }

    public var text: String {
        var lines = ["TokenBridge bench (WebSocket fan-out)"]
        if let perConnection = idleBytesPerConnection {
            lines.append("  idle      \(connections) connections, \(BenchReport.fixed(perConnection / 1024, 2)) KiB of bridge RSS each")
        } else {
            lines.append("  load      \(streams) stream(s) x \(subscribersPerStream) subscriber(s), \(tokens) tokens at \(rate == 0 ? "unlimited rate" : "\(rate)/s")"
                    + (busyPoll ? ", busy-polling client" : ""))
            lines.append("  delivered \(delivered) publications, \(BenchReport.fixed(deliveredPerSecond, 0))/s")
            if let latency { lines.append("  latency   \(latency.text)") }
            lines.append("  checks    lost \(lost), duplicated \(duplicated), closed by the server \(closedByServer)")
        }
        if let rss = bridgeRSS { lines.append("  bridge    RSS \(BenchReport.fixed(Double(rss) / 1_048_576, 1)) MB" + (bridgeCPUSeconds.map { ", CPU \(BenchReport.fixed($0, 2)) s" } ?? "")) }
        return lines.joined(separator: "\n") + "\n"
    }

    public var json: String {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        for (key, value) in [("streams", streams), ("subscribers_per_stream", subscribersPerStream), ("tokens", tokens),
            ("connections", connections), ("delivered", delivered), ("lost", lost), ("duplicated", duplicated),
            ("closed_by_server", closedByServer.count)] {
            writer.key(key)
            writer.int(value)
        }
        writer.key("busy_poll")
        writer.bool(busyPoll)
        writer.key("delivered_per_second")
        writer.double(deliveredPerSecond)
        if let latency {
            writer.key("latency_ms")
            latency.write(to: &writer)
        }
        writer.key("bridge_rss_bytes")
        if let rss = bridgeRSS { writer.int(rss) } else { writer.null() }
        writer.key("bridge_cpu_seconds")
        if let cpu = bridgeCPUSeconds { writer.double(cpu) } else { writer.null() }
        writer.key("idle_bytes_per_connection")
        if let idle = idleBytesPerConnection { writer.double(idle) } else { writer.null() }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self) + "\n"
    }
}
