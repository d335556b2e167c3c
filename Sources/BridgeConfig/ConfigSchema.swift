/// The one table of configuration keys: file keys, their Swift properties, legacy env names.
///
/// Environment variable names are derived (`TOKENBRIDGE_` + the dotted key in upper case with `_`),
/// so the table cannot drift from them. Order here is the order of rendered YAML.
enum ConfigSchema {
    static let variablePrefix = "TOKENBRIDGE_"

    static var root: [ConfigSchemaNode] {
        [
            server, llm, pipeline, ingress, sinks, channels,
            .section("log", [.choice("level", \.log.level, legacy: "LOG_LEVEL")]),
        ]
    }

    /// Every leaf key with its dotted path, in table order.
    static var entries: [ConfigEntry] {
        flatten(root, prefix: "")
    }

    private static func flatten(_ nodes: [ConfigSchemaNode], prefix: String) -> [ConfigEntry] {
        nodes.flatMap { node -> [ConfigEntry] in
            switch node {
            case .section(let name, let children): flatten(children, prefix: prefix + name + ".")
            case .field(let field): [ConfigEntry(key: prefix + field.name, field: field)]
            }
        }
    }

    // MARK: - Sections

    private static var server: ConfigSchemaNode {
        .section(
            "server",
            [
                .string("host", \.server.host),
                .integer("port", \.server.port),
                .string("web_root", \.server.webRoot),
                .strings("api_keys", \.server.apiKeys, secret: true),
                .strings("allowed_origins", \.server.allowedOrigins),
                .duration("sse_keepalive", \.server.sseKeepalive),
                .section(
                    "limits",
                    [
                        .bytes("max_body_bytes", \.server.limits.maxBodyBytes),
                        .bytes("max_header_bytes", \.server.limits.maxHeaderBytes),
                        .bytes("max_pending_bytes", \.server.limits.maxPendingBytes),
                    ]),
            ])
    }

    private static var llm: ConfigSchemaNode {
        .section(
            "llm",
            [
                .choice("provider", \.llm.provider),
                .url("url", \.llm.url, legacy: "OPENAI_URL"),
                .string("model", \.llm.model, legacy: "OPENAI_MODEL"),
                .string("api_key", \.llm.apiKey, legacy: "OPENAI_API_KEY", secret: true),
                .boolean("force_model", \.llm.forceModel),
                .section(
                    "timeouts",
                    [
                        .duration("connect", \.llm.timeouts.connect),
                        .duration("first_token", \.llm.timeouts.firstToken),
                        .duration("idle", \.llm.timeouts.idle),
                        .duration("total", \.llm.timeouts.total),
                    ]),
                .integer("retries", \.llm.retries),
                .duration("retry_backoff", \.llm.retryBackoff),
                .duration("retry_backoff_max", \.llm.retryBackoffMax),
                .section(
                    "simulated",
                    [
                        .integer("tokens", \.llm.simulated.tokens),
                        .number("rate", \.llm.simulated.rate),
                        .integer("seed", \.llm.simulated.seed),
                        .boolean("reasoning", \.llm.simulated.reasoning),
                    ]),
            ])
    }

    private static var pipeline: ConfigSchemaNode {
        .section(
            "pipeline",
            [
                .integer("max_concurrent_streams", \.pipeline.maxConcurrentStreams),
                .duration("retention", \.pipeline.retention),
                .bytes("retention_max_bytes", \.pipeline.retentionMaxBytes),
                .duration("attach_wait", \.pipeline.attachWait),
                .duration("shutdown_grace", \.pipeline.shutdownGrace),
            ])
    }

    private static var ingress: ConfigSchemaNode {
        .section(
            "ingress",
            [
                .section("http", [.boolean("enabled", \.ingress.http.enabled)]),
                .section(
                    "rabbitmq",
                    [
                        .boolean("enabled", \.ingress.rabbitmq.enabled),
                        .url("url", \.ingress.rabbitmq.url, legacy: "RABBITMQ_URL"),
                        .string("queue", \.ingress.rabbitmq.queue, legacy: "RABBITMQ_QUEUE"),
                        .integer("prefetch", \.ingress.rabbitmq.prefetch),
                        .bytes("max_message_bytes", \.ingress.rabbitmq.maxMessageBytes),
                        .duration("consumer_timeout", \.ingress.rabbitmq.consumerTimeout),
                        .duration("heartbeat", \.ingress.rabbitmq.heartbeat),
                        .duration("connect_timeout", \.ingress.rabbitmq.connectTimeout),
                        .duration("reconnect_backoff", \.ingress.rabbitmq.reconnectBackoff),
                        .duration("reconnect_backoff_max", \.ingress.rabbitmq.reconnectBackoffMax),
                        .string("control_exchange", \.ingress.rabbitmq.controlExchange),
                        .section(
                            "tls",
                            [
                                .string("ca_file", \.ingress.rabbitmq.tls.caFile),
                                .string("cert_file", \.ingress.rabbitmq.tls.certFile),
                                .string("key_file", \.ingress.rabbitmq.tls.keyFile),
                                .boolean("verify_peer", \.ingress.rabbitmq.tls.verifyPeer),
                                .boolean("verify_hostname", \.ingress.rabbitmq.tls.verifyHostname),
                            ]),
                    ]),
            ])
    }

    private static var sinks: ConfigSchemaNode {
        .section(
            "sinks",
            [
                .choices("default", \.sinks.default),
                .choices("allowed", \.sinks.allowed),
                .section(
                    "rabbitmq",
                    [
                        .string(
                            "response_queue_prefix", \.sinks.rabbitmq.responseQueuePrefix,
                            legacy: "RESPONSE_QUEUE_PREFIX"),
                        .choice("format", \.sinks.rabbitmq.format),
                        .duration("queue_expires", \.sinks.rabbitmq.queueExpires),
                        .choice("delivery_mode", \.sinks.rabbitmq.deliveryMode),
                        .duration("coalesce_window", \.sinks.rabbitmq.coalesceWindow),
                        .bytes("max_pending_bytes", \.sinks.rabbitmq.maxPendingBytes),
                    ]),
                .section("websocket", []),
                .section(
                    "centrifugo",
                    [
                        .url("api_url", \.sinks.centrifugo.apiURL, legacy: "CENTRIFUGO_API_URL"),
                        .string("api_key", \.sinks.centrifugo.apiKey, legacy: "CENTRIFUGO_API_KEY", secret: true),
                        .choice("api_style", \.sinks.centrifugo.apiStyle),
                        .string("channel_template", \.sinks.centrifugo.channelTemplate),
                        .duration("coalesce_window", \.sinks.centrifugo.coalesceWindow),
                        .boolean("merge_deltas", \.sinks.centrifugo.mergeDeltas),
                        .integer("retries", \.sinks.centrifugo.retries),
                        .duration("retry_backoff", \.sinks.centrifugo.retryBackoff),
                        .duration("timeout", \.sinks.centrifugo.timeout),
                        .integer("max_pending_events", \.sinks.centrifugo.maxPendingEvents),
                        .boolean("fail_stream", \.sinks.centrifugo.failStream),
                    ]),
            ])
    }

    private static var channels: ConfigSchemaNode {
        .section(
            "channels",
            [
                .string("prefix", \.channels.prefix),
                .string("api_key", \.channels.apiKey, secret: true),
                .boolean("api_insecure", \.channels.apiInsecure),
                .duration("ping_interval", \.channels.pingInterval),
                .duration("pong_timeout", \.channels.pongTimeout),
                .duration("connect_timeout", \.channels.connectTimeout),
                .duration("expired_close_delay", \.channels.expiredCloseDelay),
                .integer("history_size", \.channels.historySize),
                .duration("history_ttl", \.channels.historyTTL),
                .duration("history_meta_ttl", \.channels.historyMetaTTL),
                .integer("recovery_limit", \.channels.recoveryLimit),
                .bytes("history_max_bytes", \.channels.historyMaxBytes),
                .integer("max_connections", \.channels.maxConnections),
                .integer("max_subscriptions", \.channels.maxSubscriptions),
                .bytes("max_queued_bytes", \.channels.maxQueuedBytes),
                .integer("max_queued_messages", \.channels.maxQueuedMessages),
                .bytes("max_message_bytes", \.channels.maxMessageBytes),
                .strings("client_publish_namespaces", \.channels.clientPublishNamespaces),
                .section(
                    "auth",
                    [
                        .choice("mode", \.channels.auth.mode),
                        .string("hmac_secret", \.channels.auth.hmacSecret, secret: true),
                        .boolean("allow_anonymous_streams", \.channels.auth.allowAnonymousStreams),
                        .string("audience", \.channels.auth.audience),
                        .string("issuer", \.channels.auth.issuer),
                    ]),
                .strings("allowed_origins", \.channels.allowedOrigins),
            ])
    }
}

/// A leaf key with its place in the tree.
struct ConfigEntry {
    /// Dotted file key, `llm.timeouts.first_token`.
    let key: String
    let field: ConfigField

    /// `TOKENBRIDGE_LLM_TIMEOUTS_FIRST_TOKEN`.
    var variable: String {
        ConfigSchema.variablePrefix + key.uppercased().split(separator: ".").joined(separator: "_")
    }
}
