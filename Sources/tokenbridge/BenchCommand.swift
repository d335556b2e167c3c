import ArgumentParser
import Bench

/// `tokenbridge bench`: a load generator for OpenAI-compatible streaming (the bridge or the mock).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Keep N streaming chat requests in flight against a server and measure them.",
        discussion: """
            Every stream asks for --tokens tokens and must receive exactly that many content deltas \
            and then [DONE]; anything else is reported as lost, extra or incomplete. Rates are \
            measured over --duration (or until the last of --rounds ends). Run it against the bridge \
            and against `tokenbridge mock-llm` directly to see what the bridge costs. The exit status \
            is 1 when any stream failed or lost tokens.

            With --ingress amqp it publishes prompts to the bridge's queue (--amqp-url, --queue) and \
            reads the answers as a queue consumer; --amqp-mode broker-ceiling and queue-ceiling measure what the \
            broker alone carries for answer-shaped messages, for the ratio.

            With --egress ws the streams' channel subscribers read them (--subscribers per stream); \
            with --egress amqp each stream is submitted with "sinks": ["rabbitmq"] and read from its \
            response_<uid> queue on --amqp-url; with --egress all every stream is read at once on its \
            SSE response, by --subscribers channel subscribers and from its response queue, with one \
            line per egress. These need the simulated model (each token is stamped with its send \
            time) and, for amqp, a bridge with RabbitMQ (--spawn passes --amqp-url to the one it starts).
            """)

    enum Ingress: String, ExpressibleByArgument {
        case http
        case amqp
    }

    @Option(name: .long, help: "http (SSE streams) or amqp (prompts through RabbitMQ).")
    var ingress = Ingress.http

    @Option(name: .long, help: "Broker URL for --ingress amqp and --egress amqp/all (and for the bridge --spawn starts then).")
    var amqpURL = "amqp://guest:guest@127.0.0.1:5672/"

    @Option(name: .long, help: "The bridge's prompt queue, for --ingress amqp (and the one a bridge --spawn starts with RabbitMQ consumes).")
    var queue = "chat_incoming"

    @Option(name: .long, help: "response-queues (chatgpt-queue's response_<uid>), reply-to, broker-ceiling or queue-ceiling.")
    var amqpMode = "response-queues"

    @Flag(name: .long, help: "Broker ceiling with transient messages (the bridge's default is persistent).")
    var transient = false

    @Option(name: .long, help: "Connections the AMQP bench reads answers on (--ingress amqp, --egress amqp/all).")
    var amqpConnections = 4

    enum EgressChoice: String, ExpressibleByArgument {
        case sse
        case ws
        case amqp
        case all
    }

    @Option(
        name: .long,
        help: "sse (the HTTP caller's stream), ws (channel subscribers, fan-out), amqp (response_<uid> queues) or all (every stream on all three at once).")
    var egress: EgressChoice?

    @Option(name: .long, help: "WebSocket subscribers per stream, for --egress ws and all.")
    var subscribers = 1

    @Option(
        name: .long,
        help: "Tokens per second per stream (0 = unlimited): the spawned mock's pace, and each request's for --egress ws, amqp and all (the simulated model).")
    var rate: Double = 0

    @Option(name: .long, help: "With --egress ws: open this many idle connections and report the bridge's memory per connection (needs --pid).")
    var idleConnections: Int?

    @Flag(name: .long, help: "With --egress ws: the subscribers' thread spins instead of sleeping, so the bridge's sends never pay for waking a client that shares its machine (costs a core).")
    var busyPoll = false

    @Option(name: .long, help: "Base URL of the OpenAI-compatible server, including /v1.")
    var url = "http://127.0.0.1:8080/v1"

    @Option(name: .long, help: "Concurrent streams kept in flight.")
    var streams = 100

    @Option(name: .long, help: "max_tokens of each request (content deltas each stream must carry).")
    var tokens = 100

    @Option(name: .long, help: "Streams per slot, one after another (instead of --duration).")
    var rounds: Int?

    @Option(name: .long, help: "How long to keep starting streams, e.g. 10s, 500ms, 1m (default 10s).")
    var duration: String?

    @Option(name: .long, help: "A process (the bridge) whose RSS and CPU are sampled during the run.")
    var pid: Int32?

    @Option(name: .long, help: "Abort a stream that receives nothing for this long.")
    var idleTimeout = "30s"

    @Option(name: .long, help: "After the last start, how long in-flight streams get before they count as stalled.")
    var drainTimeout = "30s"

    @Option(name: .long, help: "Model name to send.")
    var model = "bench"

    @Flag(name: .long, help: "Start a mock-llm and a bridge in front of it (free loopback ports) for this run; --url and --pid are then theirs.")
    var spawn = false

    @Flag(name: .long, help: "Also run the same load straight against the model server (the spawned mock, or --baseline-url) and report the bridge's cost as ratios.")
    var baseline = false

    @Option(name: .long, help: "The model server's own /v1 URL for --baseline without --spawn.")
    var baselineURL: String?

    @Flag(name: .long, help: "Ask the simulated model to stamp each token with its send time: per-token latency (model to client) and order. Implied by --spawn.")
    var stamp = false

    @Flag(name: .long, help: "Print the report as one line of JSON.")
    var json = false

    @Flag(name: .long, help: "No progress line on stderr.")
    var quiet = false

    func validate() throws {
        guard streams >= 1 else { throw ValidationError("--streams must be at least 1") }
        guard subscribers >= 1 else { throw ValidationError("--subscribers must be at least 1") }
        guard rate >= 0, rate.isFinite else { throw ValidationError("--rate must be 0 (unlimited) or more") }
        if ingress == .amqp, let egress, egress != .amqp {
            throw ValidationError("--ingress amqp reads its answers from the queues: --egress \(egress.rawValue) does not apply")
        }
        if baseline, ingress == .amqp {
            throw ValidationError("--baseline runs the load straight against the model server over HTTP: not with --ingress amqp")
        }
        if baseline, egress == .ws {
            throw ValidationError("--baseline is for --egress sse, amqp and all (the ws fan-out bench has no direct counterpart)")
        }
        guard tokens >= 1 else { throw ValidationError("--tokens must be at least 1") }
        if let rounds, rounds < 1 { throw ValidationError("--rounds must be at least 1") }
        if rounds != nil, duration != nil { throw ValidationError("give --rounds or --duration, not both") }
        _ = try Self.parseDuration(duration ?? "10s", option: "--duration")
        _ = try Self.parseDuration(idleTimeout, option: "--idle-timeout")
        _ = try Self.parseDuration(drainTimeout, option: "--drain-timeout")
    }

    func run() async throws {
        if ingress == .amqp {
            try await runAMQP()
            return
        }
        switch egress ?? .sse {
        case .sse: try await runSSE()
        case .ws: try await runFanout()
        case .amqp: try await runEgresses([.amqp])
        case .all: try await runEgresses([.sse, .ws, .amqp])
        }
    }

    private var length: BenchOptions.Length {
        get throws {
            if let rounds { return .rounds(rounds) }
            return .duration(try Self.parseDuration(duration ?? "10s", option: "--duration"))
        }
    }

    /// The spawned servers, when --spawn; with a broker for the modes that read response queues.
    private func spawnIfAsked(broker: Bool) async throws -> SpawnedBridge? {
        guard spawn else { return nil }
        // Before starting anything: the spawned bridge would only say so after its retries.
        if broker { try await BrokerCheck.reach(amqpURL) }
        return try await SpawnedBridge.start(
            rate: rate, tokens: tokens, streams: streams,
            rabbitMQ: broker ? SpawnedBridge.RabbitMQ(url: amqpURL, queue: queue) : nil)
    }

    /// The SSE load's options (also the baseline's for the other egresses).
    private func sseOptions(url: String, pid: Int32?) throws -> BenchOptions {
        var options = BenchOptions(
            url: url, streams: streams, tokens: tokens, length: try length, pid: pid, model: model,
            idleTimeout: try Self.parseDuration(idleTimeout, option: "--idle-timeout"),
            drainTimeout: try Self.parseDuration(drainTimeout, option: "--drain-timeout"), showsProgress: !quiet)
        options.stampsTokens = stamp || spawn
        return options
    }

    /// The same load straight against the model server, for `--baseline`.
    private func runBaseline(spawned: SpawnedBridge?) async throws -> BenchReport {
        guard let directURL = spawned?.mockURL ?? baselineURL else {
            throw ValidationError("--baseline needs --spawn, or --baseline-url with the model server's /v1 URL")
        }
        return try await Bench.run(try sseOptions(url: directURL, pid: spawned?.mockPID))
    }

    private func runSSE() async throws {
        let spawned = try await spawnIfAsked(broker: false)
        defer { spawned?.stop() }
        let options = try sseOptions(url: spawned?.bridgeURL ?? url, pid: spawned?.bridgePID ?? pid)
        guard baseline else {
            let report = try await Bench.run(options)
            print(json ? report.json : report.text, terminator: "")
            // A run that lost or broke streams must fail a script that checks the exit status.
            if !report.isClean { throw ExitCode(1) }
            return
        }
        // The baseline first: the model server alone, then the same load through the bridge.
        let direct = try await runBaseline(spawned: spawned)
        let through = try await Bench.run(options)
        let comparison = BaselineComparison(bridge: through, baseline: direct)
        print(json ? comparison.json : comparison.text, terminator: "")
        if !comparison.isClean { throw ExitCode(1) }
    }

    private func runFanout() async throws {
        let spawned = try await spawnIfAsked(broker: false)
        defer { spawned?.stop() }
        let options = FanoutOptions(
            url: spawned?.bridgeURL ?? url, streams: streams, subscribersPerStream: subscribers, tokens: tokens, rate: rate,
            idleConnections: idleConnections, pid: spawned?.bridgePID ?? pid, busyPoll: busyPoll, showsProgress: !quiet)
        let report = try await FanoutBench.run(options)
        print(json ? report.json : report.text, terminator: "")
        if !report.isClean { throw ExitCode(1) }
    }

    private func runEgresses(_ egresses: Set<Egress>) async throws {
        let spawned = try await spawnIfAsked(broker: egresses.contains(.amqp))
        defer { spawned?.stop() }
        let options = EgressBenchOptions(
            url: spawned?.bridgeURL ?? url, egresses: egresses, amqpURL: amqpURL, amqpConnections: amqpConnections,
            streams: streams, tokens: tokens, subscribersPerStream: subscribers, rate: rate, length: try length,
            pid: spawned?.bridgePID ?? pid, model: model, idleTimeout: try Self.parseDuration(idleTimeout, option: "--idle-timeout"),
            drainTimeout: try Self.parseDuration(drainTimeout, option: "--drain-timeout"), showsProgress: !quiet, busyPoll: busyPoll)
        let direct = baseline ? try await runBaseline(spawned: spawned) : nil
        let report = try await EgressBench.run(options)
        guard let direct else {
            print(json ? report.json : report.text, terminator: "")
            if !report.isClean { throw ExitCode(1) }
            return
        }
        let comparison = BaselineComparison(bridge: report, baseline: direct)
        print(json ? comparison.json : comparison.text, terminator: "")
        if !comparison.isClean { throw ExitCode(1) }
    }

    private func runAMQP() async throws {
        guard let mode = AMQPBenchOptions.Mode(rawValue: amqpMode) else {
            throw ValidationError("--amqp-mode must be response-queues, reply-to, broker-ceiling or queue-ceiling, not '\(amqpMode)'")
        }
        let ceiling = mode == .brokerCeiling || mode == .queueCeiling
        // A ceiling runs without a bridge: nothing to spawn for it.
        let spawned = ceiling ? nil : try await spawnIfAsked(broker: true)
        defer { spawned?.stop() }
        let options = AMQPBenchOptions(
            url: amqpURL, mode: mode, queue: queue, streams: streams, tokens: tokens,
            duration: try Self.parseDuration(duration ?? "10s", option: "--duration"), pid: spawned?.bridgePID ?? pid,
            persistent: !transient, connections: amqpConnections, showsProgress: !quiet)
        let report = try await AMQPBench.run(options)
        print(json ? report.json : report.text, terminator: "")
        if !report.isClean { throw ExitCode(1) }
    }

    /// `10s`, `500ms`, `2m`, `1.5s`: a number and one unit.
    static func parseDuration(_ text: String, option: String) throws -> Duration {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for unit in units where text.hasSuffix(unit.suffix) {
            if let number = Double(text.dropLast(unit.suffix.count)), number > 0, number.isFinite {
                return .milliseconds(Int64((number * unit.seconds * 1000).rounded()))
            }
        }
        throw ValidationError("\(option) needs a positive duration such as 10s, 500ms or 1m, not '\(text)'")
    }
}
