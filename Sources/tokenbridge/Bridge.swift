import AMQP
import BridgeConfig
import BridgeCore
import Centrifuge
import CentrifugoSink
import ChannelBridge
import Curl
import HTTPIngress
import Logging
import OpenAIUpstream
import RabbitMQBridge
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
    let channels: ChannelServer
    let queueIngress: RabbitMQIngress?
    let centrifugo: CentrifugoPublisher?

    init(configuration: BridgeConfiguration) throws {
        ShutdownSignal.prepareProcess()
        self.configuration = configuration
        logger = LogSetup.bootstrap(level: configuration.log.level.swiftLogLevel, label: "tokenbridge")
        let llm = configuration.llm
        // One curl loop for whatever speaks HTTP out: the model server, an external Centrifugo.
        let centrifugoSettings = configuration.sinks.centrifugo
        let needsCurl = llm.provider == .openai || !centrifugoSettings.apiURL.isEmpty
        let curlLoop = needsCurl ? try CurlMultiLoop(name: "curl") : nil
        curl = curlLoop
        switch llm.provider {
        case .simulated:
            client = SimulatedLLMClient(
                configuration: .init(
                    modelName: llm.model, tokens: llm.simulated.tokens, tokensPerSecond: llm.simulated.rate,
                    seed: llm.simulated.seed, reasoning: llm.simulated.reasoning))
        case .openai:
            let loop = try curlLoop ?? CurlMultiLoop(name: "curl")
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
                forceModel: llm.forceModel, retention: configuration.pipeline.retention,
                retentionMaxBytes: configuration.pipeline.retentionMaxBytes),
            logger: logger)
        channels = Self.makeChannelServer(configuration, pipeline: pipeline, logger: logger)
        centrifugo = Self.makeCentrifugoPublisher(centrifugoSettings, loop: curlLoop, pipeline: pipeline, logger: logger)
        let baseSinks = Self.sinkCatalog(configuration, channels: channels, centrifugo: centrifugo)
        let queueIngress = try Self.makeQueueIngress(configuration, pipeline: pipeline, sinks: baseSinks, logger: logger)
        self.queueIngress = queueIngress
        // Streams from HTTP may name the response queues too, through the queue ingress's connection.
        let sinks = queueIngress.map { ingress in
            baseSinks.adding("rabbitmq") { uid, model in ingress.responseSink(uid: uid, model: model) }
        } ?? baseSinks
        try sinks.validateDefaults()
        let serverSettings = configuration.server
        let ingress = HTTPIngress(
            configuration: HTTPIngressConfiguration(
                apiKeys: serverSettings.apiKeys, allowedOrigins: serverSettings.allowedOrigins,
                sseKeepalive: serverSettings.sseKeepalive, channelPrefix: configuration.channels.prefix,
                attachWait: configuration.pipeline.attachWait),
            pipeline: pipeline, client: client, dependencies: queueIngress.map { [$0] } ?? [], sinks: sinks,
            metricsSources: [channels] + (queueIngress.map { [$0] } ?? []) + (centrifugo.map { [$0] } ?? []),
            textChannelSinks: Self.textChannelSinks(configuration, channels: channels, centrifugo: centrifugo), logger: logger)
        server = WebServer(
            configuration: WebServerConfiguration(
                host: serverSettings.host, port: serverSettings.port, webRoot: serverSettings.webRoot,
                maxBodyBytes: serverSettings.limits.maxBodyBytes, maxHeaderBytes: serverSettings.limits.maxHeaderBytes,
                maxPendingBytes: serverSettings.limits.maxPendingBytes,
                maxWebSocketMessageBytes: configuration.channels.maxMessageBytes),
            handler: HTTPHandlerChain([ingress, channels.apiRoutes(apiKey: configuration.channels.apiKey, insecure: configuration.channels.apiInsecure)]),
            webSocketHandler: channels, logger: logger)
        if let curlLoop {
            // Streams' chunks are written from the curl thread's callbacks: one wake of the
            // server thread per few sockets served instead of one per chunk read.
            server.deferWakes(from: { [weak curlLoop] in curlLoop?.isCurrentThread ?? false })
            curlLoop.afterEachPass { [weak server] in server?.flushDeferredWakes() }
        }
    }

    /// Serves until SIGINT/SIGTERM, then stops: no new streams, running ones finish or end with a
    /// terminal event within the grace period, queued responses flush, the server closes last.
    func runUntilSignalled() async throws {
        channels.start()
        try server.start()
        try queueIngress?.start()
        logger.info(
            "tokenbridge ready",
            metadata: [
                "port": "\(configuration.server.port)", "llm.provider": "\(configuration.llm.provider.rawValue)",
                "llm.model": "\(configuration.llm.model)",
            ])
        let signal = await ShutdownSignal.wait()
        logger.info("stopping", metadata: ["signal": "\(signal)", "streams": "\(pipeline.activeCount)"])
        // Ingresses first: no new prompts from the queue or over HTTP.
        queueIngress?.stopConsuming()
        let graceEnds = ContinuousClock.now + configuration.pipeline.shutdownGrace
        await pipeline.waitUntilIdle(grace: configuration.pipeline.shutdownGrace)
        // A queue prompt whose stream ended is acked once the broker confirms the answer's last
        // messages: give that the rest of the grace period (at least a second).
        await queueIngress?.waitUntilSettled(timeout: max(graceEnds - .now, .seconds(1)))
        // Queue prompts still running go back to the queue; the rest end with a `shutdown` error.
        queueIngress?.requeueUnfinished()
        pipeline.failRemaining(
            StreamFailure(code: .shutdown, message: "The bridge shut down before the answer was complete."))
        queueIngress?.shutdown(timeout: .seconds(5))
        // Streams ended: let their last publications reach Centrifugo before the curl loop goes.
        await centrifugo?.drain(timeout: .seconds(5))
        server.stop(flushTimeout: .seconds(2))
        channels.stop()
        curl?.shutdown()
        logger.info("stopped")
    }

    /// The embedded channel server (`/connection/websocket`) and its hub.
    private static func makeChannelServer(_ configuration: BridgeConfiguration, pipeline: Pipeline, logger: Logger) -> ChannelServer {
        let settings = configuration.channels
        let session = SessionConfiguration(
            pingInterval: settings.pingInterval, pongTimeout: settings.pongTimeout, connectTimeout: settings.connectTimeout,
            maxSubscriptions: settings.maxSubscriptions, maxQueuedBytes: settings.maxQueuedBytes,
            maxQueuedMessages: settings.maxQueuedMessages, expiredCloseDelay: settings.expiredCloseDelay)
        let hub = ChannelHub.Configuration(
            historySize: settings.historySize, historyTTL: settings.historyTTL,
            recoveryLimit: settings.recoveryLimit > 0 ? settings.recoveryLimit : nil, maxHistoryBytes: settings.historyMaxBytes,
            historyMetaTTL: settings.historyMetaTTL)
        return ChannelServer(
            configuration: ChannelServerConfiguration(
                streamPrefix: settings.prefix, hub: hub, session: session, allowedOrigins: settings.allowedOrigins,
                maxConnections: settings.maxConnections),
            authorizer: authorizer(settings), pipeline: pipeline, logger: logger)
    }

    /// `channels.auth.mode`: anyone, or JWTs.
    private static func authorizer(_ settings: BridgeConfiguration.Channels) -> any ChannelAuthorizer {
        let namespaces = Set(settings.clientPublishNamespaces)
        switch settings.auth.mode {
        case .insecure:
            return InsecureAuthorizer(publishNamespaces: namespaces)
        case .token:
            let auth = settings.auth
            let verifier = JWTVerifier(
                secret: auth.hmacSecret, audience: auth.audience.isEmpty ? nil : auth.audience,
                issuer: auth.issuer.isEmpty ? nil : auth.issuer)
            return TokenAuthorizer(
                verifier: verifier, streamPrefix: settings.prefix, allowAnonymousStreams: auth.allowAnonymousStreams,
                publishNamespaces: namespaces)
        }
    }

    /// The external Centrifugo sink, when `sinks.centrifugo.api_url` is set.
    private static func makeCentrifugoPublisher(
        _ settings: BridgeConfiguration.Sinks.Centrifugo, loop: CurlMultiLoop?, pipeline: Pipeline, logger: Logger
    ) -> CentrifugoPublisher? {
        guard let loop, !settings.apiURL.isEmpty else { return nil }
        let failStream = settings.failStream
        return CentrifugoPublisher(
            configuration: CentrifugoSinkConfiguration(
                apiURL: settings.apiURL, apiKey: settings.apiKey, style: settings.apiStyle == .legacy ? .legacy : .v5,
                channelTemplate: settings.channelTemplate, coalesceWindow: settings.coalesceWindow,
                mergeDeltas: settings.mergeDeltas, retries: settings.retries, retryBackoff: settings.retryBackoff,
                timeout: settings.timeout, maxPendingEvents: settings.maxPendingEvents),
            loop: loop, logger: logger,
            onFailure: { uid, epoch, reason in
                // Only the run that failed here: a later run of the uid has a sink of its own.
                guard failStream, let run = pipeline.run(uid: uid), run.epoch == epoch else { return }
                run.fail(
                    StreamFailure(code: .sinkFailed, message: "The centrifugo sink could not deliver this stream: \(reason)"))
            })
    }

    /// Where `POST /api/execute` publishes: the embedded channel server and/or the external
    /// Centrifugo, as `sinks.default` lists them.
    private static func textChannelSinks(
        _ configuration: BridgeConfiguration, channels: ChannelServer, centrifugo: CentrifugoPublisher?
    ) -> HTTPIngress.TextChannelSinks? {
        let embedded = configuration.sinks.default.contains(.websocket)
        let external = configuration.sinks.default.contains(.centrifugo) ? centrifugo : nil
        guard embedded || external != nil else { return nil }
        return { channel, uid in
            (embedded ? [channels.textSink(channel: channel)] : []) + (external.map { [$0.textSink(uid: uid, channel: channel)] } ?? [])
        }
    }

    /// The sinks set up here, `sinks.default` and `sinks.allowed`.
    private static func sinkCatalog(
        _ configuration: BridgeConfiguration, channels: ChannelServer, centrifugo: CentrifugoPublisher?
    ) -> SinkCatalog {
        var available: [String: SinkCatalog.Maker] = ["websocket": { uid, _ in channels.sink(for: uid) }]
        if let centrifugo { available["centrifugo"] = { uid, _ in centrifugo.sink(for: uid) } }
        return SinkCatalog(
            available: available, defaults: configuration.sinks.default.map(\.rawValue),
            allowed: configuration.sinks.allowed.map(\.rawValue))
    }

    /// The RabbitMQ ingress when `ingress.rabbitmq.enabled`, with its response-queue sink.
    private static func makeQueueIngress(
        _ configuration: BridgeConfiguration, pipeline: Pipeline, sinks: SinkCatalog, logger: Logger
    ) throws -> RabbitMQIngress? {
        let settings = configuration.ingress.rabbitmq
        guard settings.enabled else { return nil }
        let sink = configuration.sinks.rabbitmq
        let tls = settings.tls
        let connection = AMQPConnectionConfiguration(
            url: try AMQPURL(parsing: settings.url),
            tls: AMQPTLSConfiguration(
                caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, verifyPeer: tls.verifyPeer,
                verifyHostname: tls.verifyHostname),
            heartbeat: settings.heartbeat, connectTimeout: settings.connectTimeout,
            reconnectBackoff: settings.reconnectBackoff, reconnectBackoffMax: settings.reconnectBackoffMax,
            connectionName: "tokenbridge \(settings.queue)", maxQueuedPublishBytes: sink.maxPendingBytes)
        let ingress = RabbitMQIngressConfiguration(
            queue: settings.queue,
            prefetch: settings.prefetch > 0 ? settings.prefetch : configuration.pipeline.maxConcurrentStreams,
            maxMessageBytes: settings.maxMessageBytes, consumerTimeout: settings.consumerTimeout,
            controlExchange: settings.controlExchange, responseQueuePrefix: sink.responseQueuePrefix,
            format: RabbitMQIngressConfiguration.Format(rawValue: sink.format.rawValue) ?? .json,
            queueExpires: sink.queueExpires, deliveryMode: sink.deliveryMode == .transient ? .transient : .persistent,
            coalesceWindow: sink.coalesceWindow)
        return try RabbitMQIngress(
            configuration: ingress, connection: connection, pipeline: pipeline, sinks: sinks, logger: logger)
    }
}

extension BridgeConfiguration.Log.Level {
    var swiftLogLevel: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
}
