import BridgeCore
import Centrifuge
import Logging
import Synchronization
import WebServer

/// The embedded channel server: Centrifugo's client protocol on `/connection/websocket`, the
/// hub every stream publishes into, and the sink that does that publishing.
public final class ChannelServer: WebSocketHandler, Sendable {
    public let configuration: ChannelServerConfiguration
    public let hub: ChannelHub
    public let registry = ClientRegistry()
    let authorizer: any ChannelAuthorizer
    let logger: Logger
    private let rpcHandler: ClientSession.RPCHandler?
    private let sweeper = Mutex<Task<Void, Never>?>(nil)

    /// - Parameter pipeline: when given, clients may cancel its streams with `rpc` `cancel`.
    public convenience init(
        configuration: ChannelServerConfiguration, authorizer: any ChannelAuthorizer, pipeline: Pipeline, logger: Logger
    ) {
        self.init(
            configuration: configuration, authorizer: authorizer, logger: logger,
            rpcHandler: StreamCancelRPC.handler(pipeline: pipeline, authorizer: authorizer, streamPrefix: configuration.streamPrefix),
            streamHistory: JournalHistory(journal: pipeline.journal))
    }

    /// - Parameter streamHistory: where the streams' channels read their history (the pipeline's
    ///   journal); nil: each channel keeps its own.
    public init(
        configuration: ChannelServerConfiguration, authorizer: any ChannelAuthorizer, logger: Logger,
        rpcHandler: ClientSession.RPCHandler? = nil, streamHistory: (any StreamHistorySource)? = nil
    ) {
        self.configuration = configuration
        var hubConfiguration = configuration.hub
        hubConfiguration.streamPrefix = configuration.streamPrefix
        hub = ChannelHub(configuration: hubConfiguration, streamHistory: streamHistory)
        self.authorizer = authorizer
        self.logger = logger
        self.rpcHandler = rpcHandler
    }

    /// Starts the history sweeper (expired history, empty channels).
    public func start() {
        let hub = self.hub
        sweeper.withLock { task in
            guard task == nil else { return }
            task = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    hub.sweep()
                }
            }
        }
    }

    public func stop() {
        sweeper.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// Centrifugo's server API over this hub, as HTTP routes (`/api`, `/api/<method>`).
    public func apiRoutes(apiKey: String, insecure: Bool) -> ServerAPIRoutes {
        ServerAPIRoutes(api: ServerAPI(hub: hub, registry: registry), apiKey: apiKey, insecure: insecure)
    }

    /// The sink that publishes a stream's events into its channel.
    public func sink(for uid: String) -> any EventSink {
        WebSocketSink(hub: hub, channel: configuration.streamPrefix + uid)
    }

    // MARK: - WebSocketHandler

    public func upgrade(_ request: HTTPRequest, connection: WebSocketConnection) -> WebSocketUpgrade {
        guard request.path == configuration.path else {
            return .refuse(HTTPResponse(status: 404, text: "No WebSocket endpoint at \(request.path)."))
        }
        if let origin = request.header("origin"), !originAllowed(origin) {
            logger.info("WebSocket refused: origin not allowed", metadata: ["http.origin": "\(origin)"])
            return .refuse(HTTPResponse(status: 403, text: "Origin \(origin) is not allowed."))
        }
        let transport = WebSocketTransport(connection: connection)
        let session = ClientSession(
            hub: hub, configuration: configuration.session, authorizer: authorizer, transport: transport, registry: registry,
            rpcHandler: rpcHandler)
        if registry.count >= configuration.maxConnections {
            // Accepted only to be told why, in the protocol's own terms (terminal for the SDKs).
            transport.close(.connectionLimit)
        }
        return .accept(WebSocketClientSession(session: session))
    }

    private func originAllowed(_ origin: String) -> Bool {
        configuration.allowedOrigins.contains { $0 == "*" || $0.caseInsensitiveCompare(origin) == .orderedSame }
    }
}

extension ChannelServer: MetricsSource {
    public func writeMetrics(to metrics: inout MetricsText) {
        let sessions = registry.all()
        metrics.gauge("tokenbridge_channel_connections", "Open WebSocket connections of the channel server.", Double(sessions.count))
        metrics.counter("tokenbridge_channel_connections_total", "WebSocket connections opened.", Double(registry.connectionsOpened))
        metrics.gauge(
            "tokenbridge_channel_subscriptions", "Subscriptions held by those connections.",
            Double(sessions.reduce(0) { $0 + $1.subscribedChannels.count }))
        metrics.gauge("tokenbridge_channels", "Channels with history or subscribers.", Double(hub.channelCount))
        let queued = sessions.map(\.queuedBytes)
        metrics.gauge(
            "tokenbridge_channel_queued_bytes", "Output queued for clients and not yet written, all connections together (lag).",
            Double(queued.reduce(0, +)))
        metrics.gauge(
            "tokenbridge_channel_queued_bytes_max", "The most output queued for one client (the slowest one's lag).",
            Double(queued.max() ?? 0))
        metrics.counter("tokenbridge_channel_publications_total", "Publications accepted by the hub.", Double(hub.publications))
        metrics.gauge(
            "tokenbridge_channel_history_bytes", "Estimated size of the history held for recovery (bounded by channels.history_max_bytes).",
            Double(hub.historyBytes))
        metrics.counter(
            "tokenbridge_channel_history_evictions_total", "Channel histories dropped to stay within channels.history_max_bytes.",
            Double(hub.historyEvictions))
        metrics.counter(
            "tokenbridge_channel_slow_disconnects_total", "Connections closed for falling too far behind (3008).",
            Double(registry.slowDisconnects))
    }
}
