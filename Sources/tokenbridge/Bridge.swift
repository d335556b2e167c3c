import BridgeConfig
import BridgeCore
import Curl
import HTTPIngress
import Logging
import OpenAIUpstream
import SimulatedModel
import WebServer

/// The running bridge: builds every part from the configuration, and stops them in reverse order.
struct Bridge {
    let configuration: BridgeConfiguration
    let logger: Logger
    let curl: CurlMultiLoop?
    let client: any LLMClient
    let pipeline: Pipeline
    let server: WebServer

    init(configuration: BridgeConfiguration) throws {
        ShutdownSignal.prepareProcess()
        self.configuration = configuration
        logger = LogSetup.bootstrap(level: configuration.log.level.swiftLogLevel, label: "tokenbridge")
        let llm = configuration.llm
        switch llm.provider {
        case .simulated:
            curl = nil
            client = SimulatedLLMClient(
                configuration: .init(
                    modelName: llm.model, tokens: llm.simulated.tokens, tokensPerSecond: llm.simulated.rate,
                    seed: llm.simulated.seed, reasoning: llm.simulated.reasoning))
        case .openai:
            let loop = try CurlMultiLoop(name: "curl-upstream")
            curl = loop
            client = OpenAIUpstreamClient(
                configuration: UpstreamConfiguration(
                    url: llm.url, apiKey: llm.apiKey, connectTimeout: llm.timeouts.connect,
                    firstTokenTimeout: llm.timeouts.firstToken, idleTimeout: llm.timeouts.idle,
                    totalTimeout: llm.timeouts.total, retries: llm.retries, retryBackoff: llm.retryBackoff,
                    retryBackoffMax: llm.retryBackoffMax),
                loop: loop, logger: logger)
        }
        pipeline = Pipeline(
            client: client,
            configuration: .init(
                maxConcurrentStreams: configuration.pipeline.maxConcurrentStreams, defaultModel: llm.model,
                forceModel: llm.forceModel),
            logger: logger)
        let serverSettings = configuration.server
        let ingress = HTTPIngress(
            configuration: HTTPIngressConfiguration(
                apiKeys: serverSettings.apiKeys, allowedOrigins: serverSettings.allowedOrigins,
                sseKeepalive: serverSettings.sseKeepalive),
            pipeline: pipeline, client: client, logger: logger)
        server = WebServer(
            configuration: WebServerConfiguration(
                host: serverSettings.host, port: serverSettings.port, webRoot: serverSettings.webRoot,
                maxBodyBytes: serverSettings.limits.maxBodyBytes, maxHeaderBytes: serverSettings.limits.maxHeaderBytes,
                maxPendingBytes: serverSettings.limits.maxPendingBytes),
            handler: ingress, logger: logger)
    }

    /// Serves until SIGINT/SIGTERM, then stops: no new streams, running ones finish or end with a
    /// terminal event within the grace period, queued responses flush, the server closes last.
    func runUntilSignalled() async throws {
        try server.start()
        logger.info(
            "tokenbridge ready",
            metadata: [
                "port": "\(configuration.server.port)", "llm.provider": "\(configuration.llm.provider.rawValue)",
                "llm.model": "\(configuration.llm.model)",
            ])
        let signal = await ShutdownSignal.wait()
        logger.info("stopping", metadata: ["signal": "\(signal)", "streams": "\(pipeline.activeCount)"])
        await pipeline.drain(grace: configuration.pipeline.shutdownGrace)
        server.stop(flushTimeout: .seconds(2))
        curl?.shutdown()
        logger.info("stopped")
    }
}

extension BridgeConfiguration.Log.Level {
    var swiftLogLevel: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
}
