import ArgumentParser
import BridgeCore
import HTTPIngress
import Logging
import SimulatedModel
import WebServer

/// `tokenbridge mock-llm`: an OpenAI-compatible simulated model server, for demos, tests and benchmarks.
struct MockLLMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-llm",
        abstract: "Serve a simulated OpenAI-compatible model (streaming, non-streaming, /v1/models).",
        discussion: """
            Answers are realistic varied text, the same for the same prompt (or `seed`). A request may
            override the defaults with `max_tokens`, `seed`, and a `mock` object:
            {"mock": {"tokens": 50, "rate": 0, "reasoning": true}}.
            """)

    @Option(name: .long, help: "Port to listen on.")
    var port = 8000

    @Option(name: .long, help: "Interface to bind.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Tokens per second per stream (0 = as fast as possible).")
    var rate: Double = 50

    @Option(name: .long, help: "Tokens per answer.")
    var tokens = 120

    @Flag(name: .long, help: "Start each answer with a reasoning section.")
    var reasoning = false

    @Option(name: .long, help: "Model name to list and report.")
    var model = "tokenbridge-simulated"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535") }
        guard rate >= 0 else { throw ValidationError("--rate must be 0 or more") }
        guard (1...SimulatedModel.maximumTokens).contains(tokens) else {
            throw ValidationError("--tokens must be 1-\(SimulatedModel.maximumTokens)")
        }
    }

    func run() async throws {
        ShutdownSignal.prepareProcess()
        let logger = LogSetup.bootstrap(level: Logger.Level(rawValue: logLevel) ?? .info, label: "tokenbridge.mock-llm")
        let client = SimulatedLLMClient(
            configuration: .init(modelName: model, tokens: tokens, tokensPerSecond: rate, reasoning: reasoning))
        let pipeline = Pipeline(
            client: client, configuration: .init(maxConcurrentStreams: 100_000, defaultModel: model), logger: logger)
        let ingress = HTTPIngress(configuration: .init(), pipeline: pipeline, client: client, logger: logger)
        let server = WebServer(
            configuration: WebServerConfiguration(host: host, port: port, webRoot: nil, maxBodyBytes: 16 << 20),
            handler: ingress, logger: logger)
        try server.start()
        logger.info("mock-llm ready", metadata: ["url": "http://\(host):\(port)/v1", "rate": "\(rate)", "tokens": "\(tokens)"])
        _ = await ShutdownSignal.wait()
        await pipeline.drain(grace: .seconds(2))
        server.stop()
    }
}
