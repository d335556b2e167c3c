extension BridgeConfiguration {
    /// Every range and cross-key problem, for configurations built in code; `load` already runs this.
    public func validate() -> [ConfigProblem] {
        validate(sources: [:])
    }

    func validate(sources: [String: ConfigSource]) -> [ConfigProblem] {
        var checker = ConfigChecker(sources: sources)
        checkServer(&checker)
        checkLLM(&checker)
        checkPipelineAndIngress(&checker)
        checkSinks(&checker)
        checkChannels(&checker)
        return checker.problems
    }

    // MARK: - Sections

    private func checkServer(_ checker: inout ConfigChecker) {
        checker.require(!server.host.isEmpty, "server.host", "must not be empty; 0.0.0.0 listens on every interface")
        checker.require(server.port, in: 1...65535, "server.port")
        checker.require(!server.apiKeys.contains(""), "server.api_keys", "must not contain an empty key")
        checker.requireOrigins(server.allowedOrigins, "server.allowed_origins")
        checker.requirePositive(server.sseKeepalive, "server.sse_keepalive")
        checker.require(server.limits.maxBodyBytes, in: 1024...Int.max, "server.limits.max_body_bytes")
        // libwebsockets keeps header sizes in 16 bits.
        checker.require(server.limits.maxHeaderBytes, in: 1024...65535, "server.limits.max_header_bytes")
        checker.require(server.limits.maxPendingBytes, in: (64 << 10)...(1 << 30), "server.limits.max_pending_bytes")
    }

    private func checkLLM(_ checker: inout ConfigChecker) {
        if llm.provider == .openai {
            checker.require(
                !llm.url.isEmpty, "llm.url", "must be set when llm.provider is openai", blaming: "llm.provider")
        }
        checker.requireURL(llm.url, schemes: ["http", "https"], "llm.url")
        checker.require(
            !(llm.forceModel && llm.model.isEmpty), "llm.model", "must be set when llm.force_model is true",
            blaming: "llm.force_model")
        checker.requirePositive(llm.timeouts.connect, "llm.timeouts.connect")
        checker.requirePositive(llm.timeouts.firstToken, "llm.timeouts.first_token")
        checker.requirePositive(llm.timeouts.idle, "llm.timeouts.idle")
        checker.requirePositive(llm.timeouts.total, "llm.timeouts.total")
        checker.require(llm.retries, in: 0...10, "llm.retries")
        checker.requirePositive(llm.retryBackoff, "llm.retry_backoff")
        checker.require(
            llm.retryBackoffMax >= llm.retryBackoff, "llm.retry_backoff_max",
            "must be at least llm.retry_backoff (\(ConfigDuration.format(llm.retryBackoff)))")
        checker.require(llm.simulated.tokens, in: 1...100_000, "llm.simulated.tokens")
        checker.require(llm.simulated.rate >= 0, "llm.simulated.rate", "must be 0 (as fast as possible) or more")
    }

    private func checkPipelineAndIngress(_ checker: inout ConfigChecker) {
        checker.require(pipeline.maxConcurrentStreams, in: 1...Int.max, "pipeline.max_concurrent_streams")
        checker.requireNotNegative(pipeline.retention, "pipeline.retention")
        checker.require(pipeline.retentionMaxBytes, in: (1 << 20)...(1 << 40), "pipeline.retention_max_bytes")
        checker.requireNotNegative(pipeline.attachWait, "pipeline.attach_wait")
        checker.requireNotNegative(pipeline.shutdownGrace, "pipeline.shutdown_grace")
        // Checked even when the ingress is off: the response-queue sink connects with the same URL.
        checker.requireURL(ingress.rabbitmq.url, schemes: ["amqp", "amqps"], "ingress.rabbitmq.url")
        checker.require(!ingress.rabbitmq.url.isEmpty, "ingress.rabbitmq.url", "must not be empty")
        if ingress.rabbitmq.enabled {
            checker.require(
                !ingress.rabbitmq.queue.isEmpty, "ingress.rabbitmq.queue", "must be set when the ingress is enabled",
                blaming: "ingress.rabbitmq.enabled")
        }
        // basic.qos carries the prefetch count in 16 bits.
        checker.require(ingress.rabbitmq.prefetch, in: 0...65535, "ingress.rabbitmq.prefetch")
        let rabbitmq = ingress.rabbitmq
        checker.requireQueueName(rabbitmq.queue, "ingress.rabbitmq.queue", reserve: ".dead".utf8.count)
        checker.requireQueueName(rabbitmq.controlExchange, "ingress.rabbitmq.control_exchange", reserve: 0)
        checker.require(rabbitmq.maxMessageBytes, in: 1024...(128 << 20), "ingress.rabbitmq.max_message_bytes")
        checker.require(
            rabbitmq.consumerTimeout >= .seconds(10), "ingress.rabbitmq.consumer_timeout",
            "must be at least 10s: the bridge ends a queue prompt's stream shortly before it")
        // AMQP carries the heartbeat in whole seconds, 16 bits; 0 turns heartbeats off.
        checker.require(
            rabbitmq.heartbeat >= .zero && rabbitmq.heartbeat <= .seconds(65535), "ingress.rabbitmq.heartbeat",
            "must be 0s (off) to 65535s")
        checker.requirePositive(rabbitmq.connectTimeout, "ingress.rabbitmq.connect_timeout")
        checker.requirePositive(rabbitmq.reconnectBackoff, "ingress.rabbitmq.reconnect_backoff")
        checker.require(
            rabbitmq.reconnectBackoffMax >= rabbitmq.reconnectBackoff, "ingress.rabbitmq.reconnect_backoff_max",
            "must be at least ingress.rabbitmq.reconnect_backoff (\(ConfigDuration.format(rabbitmq.reconnectBackoff)))")
        checker.require(
            rabbitmq.tls.certFile.isEmpty == rabbitmq.tls.keyFile.isEmpty, "ingress.rabbitmq.tls.key_file",
            "cert_file and key_file go together: set both or neither", blaming: "ingress.rabbitmq.tls.cert_file")
    }

    private func checkSinks(_ checker: inout ConfigChecker) {
        let notAllowed = sinks.default.filter { !sinks.allowed.contains($0) }
        checker.require(
            notAllowed.isEmpty, "sinks.default",
            "\(notAllowed.map(\.rawValue).joined(separator: ", ")) must also be in sinks.allowed")
        checker.require(
            sinks.rabbitmq.queueExpires >= .milliseconds(1), "sinks.rabbitmq.queue_expires",
            "must be at least 1ms (the broker's x-expires minimum)")
        // The queue name is the prefix and a uid of up to 128 bytes; AMQP names stop at 255 bytes.
        checker.requireQueueName(
            sinks.rabbitmq.responseQueuePrefix, "sinks.rabbitmq.response_queue_prefix", reserve: 128, allowEmpty: true)
        checker.require(
            sinks.rabbitmq.coalesceWindow >= .zero && sinks.rabbitmq.coalesceWindow <= .seconds(10),
            "sinks.rabbitmq.coalesce_window", "must be 0s (off) to 10s")
        checker.require(sinks.rabbitmq.maxPendingBytes, in: (64 << 10)...(4 << 30), "sinks.rabbitmq.max_pending_bytes")
        let centrifugo = sinks.centrifugo
        checker.requireURL(centrifugo.apiURL, schemes: ["http", "https"], "sinks.centrifugo.api_url")
        if sinks.default.contains(.centrifugo) {
            checker.require(
                !centrifugo.apiURL.isEmpty, "sinks.centrifugo.api_url",
                "must be set when sinks.default includes centrifugo",
                blaming: "sinks.default")
        }
        checker.require(
            centrifugo.channelTemplate.contains("{uid}"), "sinks.centrifugo.channel_template",
            "must contain {uid}, or every stream would publish to the same channel")
        checker.require(
            centrifugo.coalesceWindow >= .zero && centrifugo.coalesceWindow <= .seconds(10),
            "sinks.centrifugo.coalesce_window", "must be 0s (off) to 10s")
        checker.require(centrifugo.retries, in: 0...100, "sinks.centrifugo.retries")
        checker.requireNotNegative(centrifugo.retryBackoff, "sinks.centrifugo.retry_backoff")
        checker.requirePositive(centrifugo.timeout, "sinks.centrifugo.timeout")
        checker.require(centrifugo.maxPendingEvents, in: 1...10_000_000, "sinks.centrifugo.max_pending_events")
    }

    private func checkChannels(_ checker: inout ConfigChecker) {
        checker.require(
            channels.pingInterval >= .seconds(1), "channels.ping_interval",
            "must be at least 1s (the connect reply announces it in whole seconds)")
        checker.requirePositive(channels.pongTimeout, "channels.pong_timeout")
        checker.require(
            channels.pongTimeout < channels.pingInterval, "channels.pong_timeout",
            "must be shorter than channels.ping_interval (\(ConfigDuration.format(channels.pingInterval)))")
        checker.requirePositive(channels.connectTimeout, "channels.connect_timeout")
        checker.requirePositive(channels.expiredCloseDelay, "channels.expired_close_delay")
        checker.require(channels.historySize, in: 1...1_000_000, "channels.history_size")
        checker.requirePositive(channels.historyTTL, "channels.history_ttl")
        checker.requirePositive(channels.historyMetaTTL, "channels.history_meta_ttl")
        checker.require(channels.recoveryLimit, in: 0...1_000_000, "channels.recovery_limit")
        checker.require(channels.historyMaxBytes, in: (1 << 20)...(1 << 40), "channels.history_max_bytes")
        checker.require(channels.maxConnections, in: 1...1_000_000, "channels.max_connections")
        checker.require(channels.maxSubscriptions, in: 1...100_000, "channels.max_subscriptions")
        checker.require(channels.maxQueuedBytes, in: (64 << 10)...(1 << 30), "channels.max_queued_bytes")
        checker.require(channels.maxQueuedMessages, in: 100...10_000_000, "channels.max_queued_messages")
        checker.require(channels.maxMessageBytes, in: 1024...(16 << 20), "channels.max_message_bytes")
        if channels.auth.mode == .token {
            checker.require(
                !channels.auth.hmacSecret.isEmpty, "channels.auth.hmac_secret",
                "must be set when channels.auth.mode is token",
                blaming: "channels.auth.mode")
            // RFC 7518 §3.2: an HMAC key shorter than the hash is guessable.
            checker.require(
                channels.auth.hmacSecret.isEmpty || channels.auth.hmacSecret.utf8.count >= 32, "channels.auth.hmac_secret",
                "must be at least 32 bytes (RFC 7518 §3.2)")
        }
        checker.requireOrigins(channels.allowedOrigins, "channels.allowed_origins")
    }
}
