import ArgumentParser
import Bench

/// `tokenbridge bench`: a load generator for OpenAI-compatible streaming (the bridge or the mock).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Keep N streaming chat requests in flight against a server and measure them.",
        discussion: """
            Every stream asks for --tokens tokens and must receive exactly that many content deltas
            and then [DONE]; anything else is reported as lost, extra or incomplete. Rates are
            measured over --duration (or until the last of --rounds ends). Run it against the bridge
            and against `tokenbridge mock-llm` directly to see what the bridge costs. The exit status
            is 1 when any stream failed or lost tokens.

            With --ingress amqp it publishes prompts to the bridge's queue (--amqp-url, --queue) and
            reads the answers as a queue consumer; --amqp-mode broker-ceiling and queue-ceiling measure what the
            broker alone carries for answer-shaped messages, for the ratio.
            """)

    enum Ingress: String, ExpressibleByArgument {
        case http
        case amqp
    }

    @Option(name: .long, help: "http (SSE streams) or amqp (prompts through RabbitMQ).")
    var ingress = Ingress.http

    @Option(name: .long, help: "Broker URL for --ingress amqp.")
    var amqpURL = "amqp://guest:guest@127.0.0.1:5672/"

    @Option(name: .long, help: "The bridge's prompt queue, for --ingress amqp.")
    var queue = "chat_incoming"

    @Option(name: .long, help: "response-queues (chatgpt-queue's response_<uid>), reply-to, broker-ceiling or queue-ceiling.")
    var amqpMode = "response-queues"

    @Flag(name: .long, help: "Broker ceiling with transient messages (the bridge's default is persistent).")
    var transient = false

    @Option(name: .long, help: "Connections the AMQP bench reads answers on.")
    var amqpConnections = 4

    enum Egress: String, ExpressibleByArgument {
        case sse
        case ws
    }

    @Option(name: .long, help: "sse (the HTTP caller's stream) or ws (subscribers of the channel server, fan-out).")
    var egress = Egress.sse

    @Option(name: .long, help: "WebSocket subscribers per stream, for --egress ws.")
    var subscribers = 1

    @Option(name: .long, help: "Tokens per second per stream for --egress ws (0 = unlimited); the bridge must run the simulated model.")
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
        if egress == .ws {
            let options = FanoutOptions(
                url: url, streams: streams, subscribersPerStream: subscribers, tokens: tokens, rate: rate,
                idleConnections: idleConnections, pid: pid, busyPoll: busyPoll)
            let report = try await FanoutBench.run(options)
            print(json ? report.json : report.text, terminator: "")
            if !report.isClean { throw ExitCode(1) }
            return
        }
        let length: BenchOptions.Length =
            if let rounds { .rounds(rounds) } else {
                .duration(try Self.parseDuration(duration ?? "10s", option: "--duration"))
            }
        let spawned = spawn ? try await SpawnedBridge.start(rate: rate, streams: streams) : nil
        defer { spawned?.stop() }
        var options = BenchOptions(
            url: spawned?.bridgeURL ?? url, streams: streams, tokens: tokens, length: length, pid: spawned?.bridgePID ?? pid,
            model: model, idleTimeout: try Self.parseDuration(idleTimeout, option: "--idle-timeout"),
            drainTimeout: try Self.parseDuration(drainTimeout, option: "--drain-timeout"),
            showsProgress: !quiet)
        options.stampsTokens = stamp || spawn
        guard baseline else {
            let report = try await Bench.run(options)
            print(json ? report.json : report.text, terminator: "")
            // A run that lost or broke streams must fail a script that checks the exit status.
            if !report.isClean { throw ExitCode(1) }
            return
        }
        guard let directURL = spawned?.mockURL ?? baselineURL else {
            throw ValidationError("--baseline needs --spawn, or --baseline-url with the model server's /v1 URL")
        }
        // The baseline first: the model server alone, then the same load through the bridge.
        var directOptions = options
        directOptions.url = directURL
        directOptions.pid = spawned?.mockPID
        let direct = try await Bench.run(directOptions)
        options.showsProgress = !quiet
        let through = try await Bench.run(options)
        let comparison = BaselineComparison(bridge: through, baseline: direct)
        print(json ? comparison.json : comparison.text, terminator: "")
        if !comparison.isClean { throw ExitCode(1) }
    }

    private func runAMQP() async throws {
        guard let mode = AMQPBenchOptions.Mode(rawValue: amqpMode) else {
            throw ValidationError("--amqp-mode must be response-queues, reply-to, broker-ceiling or queue-ceiling, not '\(amqpMode)'")
        }
        let options = AMQPBenchOptions(
            url: amqpURL, mode: mode, queue: queue, streams: streams, tokens: tokens,
            duration: try Self.parseDuration(duration ?? "10s", option: "--duration"), pid: pid, persistent: !transient,
            connections: amqpConnections, showsProgress: !quiet)
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
