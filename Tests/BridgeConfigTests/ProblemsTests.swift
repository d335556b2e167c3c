import Testing

@testable import BridgeConfig

@Suite struct ProblemsTests {
    @Test func fiveDifferentErrorsGiveFiveProblems() {
        let yaml = """
            server:
              port: 0
              sse_keepalive: soon
            llm:
              provider: claude
              timeouts: {frist_token: 5s}
            channels:
              auth: {mode: token}
            """
        let result = load(yaml)
        #expect(result.problems.count == 5, "\(result.problems)")
        #expect(
            Set(result.problemKeys) == [
                "server.port", "server.sse_keepalive", "llm.provider", "llm.timeouts.frist_token",
                "channels.auth.hmac_secret",
            ])
        #expect(!result.isValid)
        // Each problem points at the line that caused it.
        let lines = Dictionary(uniqueKeysWithValues: result.problems.map { ($0.key ?? "", $0.source) })
        #expect(lines["server.port"] == .file(path: "test.yaml", line: 2, column: 3))
        #expect(lines["llm.provider"] == .file(path: "test.yaml", line: 5, column: 3))
        #expect(lines["channels.auth.hmac_secret"] == .file(path: "test.yaml", line: 8, column: 10))
        do {
            _ = try result.get()
            Issue.record("get() should throw")
        } catch {
            #expect(error.problems.count == 5)
            #expect(error.description.hasPrefix("configuration has 5 problems:"))
        }
    }

    @Test func problemDescriptionsNameFileLineAndKey() {
        let result = load("server:\n  port: 70000\n")
        #expect(
            result.problems.map(\.description) == ["test.yaml:2:3: server.port: must be between 1 and 65535, got 70000"]
        )
    }

    @Test func unknownKeysSuggestTheClosestKnownKey() {
        let yaml = """
            sever: {port: 1}
            llm:
              timeouts: {firsttoken: 1s}
              modle: x
            port: 9000
            channels: {wibble: 1}
            """
        let result = load(yaml)
        let messages = Dictionary(uniqueKeysWithValues: result.problems.map { ($0.key ?? "", $0.message) })
        #expect(messages["sever"] == "unknown key; did you mean 'server'?")
        #expect(messages["llm.timeouts.firsttoken"] == "unknown key; did you mean 'llm.timeouts.first_token'?")
        #expect(messages["llm.modle"] == "unknown key; did you mean 'llm.model'?")
        #expect(messages["port"] == "unknown key; did you mean 'server.port'?")
        #expect(messages["channels.wibble"]?.hasPrefix("unknown key; expected one of prefix, api_key") == true)
        #expect(result.problems.count == 5)
    }

    @Test func keysInTheEmptySectionAreUnknown() {
        let result = load("sinks:\n  websocket: {path: /ws}\n")
        #expect(result.problemKeys == ["sinks.websocket.path"])
        #expect(result.problems.first?.message == "unknown key; this section takes no keys")
    }

    @Test func badURLsAndEnumsAreReported() {
        let yaml = """
            llm: {url: "ftp://models/v1"}
            ingress: {rabbitmq: {url: "http://broker"}}
            sinks:
              rabbitmq: {format: xml}
              centrifugo: {api_url: "not a url", api_style: v4, channel_template: "all"}
            log: {level: verbose}
            """
        let result = load(yaml)
        #expect(
            result.problemKeys == [
                "sinks.rabbitmq.format", "sinks.centrifugo.api_style", "log.level", "llm.url", "ingress.rabbitmq.url",
                "sinks.centrifugo.api_url", "sinks.centrifugo.channel_template",
            ])
        #expect(result.problems[0].message == "'xml' is not one of json, text, openai")
        #expect(result.problems[3].message == "scheme 'ftp' is not supported here; expected http:// or https://")
    }

    @Test func impossibleLimitsAreReported() {
        let yaml = """
            server: {limits: {max_body_bytes: 100, max_header_bytes: 128KiB}}
            llm: {retries: 11, retry_backoff: 2s, retry_backoff_max: 1s, simulated: {tokens: 0, seed: -1}}
            pipeline: {max_concurrent_streams: 0}
            ingress: {rabbitmq: {prefetch: -1}}
            channels: {history_size: 0, ping_interval: 0}
            """
        let result = load(yaml)
        #expect(
            Set(result.problemKeys) == [
                "server.limits.max_body_bytes", "server.limits.max_header_bytes", "llm.retries",
                "llm.retry_backoff_max",
                "llm.simulated.tokens", "llm.simulated.seed", "pipeline.max_concurrent_streams",
                "ingress.rabbitmq.prefetch",
                "channels.history_size", "channels.ping_interval", "channels.pong_timeout",
            ])
        #expect(result.problems.count == 11, "a pong timeout of 8s no longer fits a ping interval of 0")
    }

    @Test func crossKeyRulesAreReported() {
        let yaml = """
            llm: {provider: openai, url: ""}
            sinks: {default: [websocket, centrifugo, pigeon], allowed: [websocket]}
            """
        let first = load(yaml)
        #expect(first.problemKeys == ["sinks.default", "llm.url"])
        #expect(first.problems[0].message == "unknown 'pigeon'; expected any of websocket, rabbitmq, centrifugo")

        let second = load("sinks: {default: [websocket, centrifugo], allowed: [websocket]}")
        #expect(second.problemKeys == ["sinks.default", "sinks.centrifugo.api_url"])
        #expect(second.problems[0].message == "centrifugo must also be in sinks.allowed")
        #expect(second.problems[1].source == .file(path: "test.yaml", line: 1, column: 9))

        let simulated = load("llm: {provider: simulated, url: \"\"}")
        #expect(simulated.problems.isEmpty)
    }

    @Test func brokerNamesAndTimingsAreChecked() {
        let long = String(repeating: "q", count: 252)
        let yaml = """
            ingress:
              rabbitmq:
                queue: \(long)
                control_exchange: amq.control
                consumer_timeout: 5s
                heartbeat: 70000s
                reconnect_backoff: 2s
                reconnect_backoff_max: 1s
                tls: {cert_file: client.pem}
            sinks:
              rabbitmq: {response_queue_prefix: amq.response_, coalesce_window: 1m}
            """
        let result = load(yaml)
        #expect(
            result.problemKeys == [
                "ingress.rabbitmq.queue", "ingress.rabbitmq.control_exchange", "ingress.rabbitmq.consumer_timeout",
                "ingress.rabbitmq.heartbeat", "ingress.rabbitmq.reconnect_backoff_max", "ingress.rabbitmq.tls.key_file",
                "sinks.rabbitmq.response_queue_prefix", "sinks.rabbitmq.coalesce_window",
            ])
        #expect(result.problems[0].message == "must be at most 250 bytes (AMQP names stop at 255), got 252")
        #expect(result.problems[5].source == .file(path: "test.yaml", line: 9, column: 11))
    }

    @Test func invalidYAMLAndDuplicateKeysAreReported() {
        let broken = load("server: [unclosed\n")
        #expect(broken.problems.count == 1)
        #expect(broken.problems.first?.message.hasPrefix("is not valid YAML") == true)
        #expect(broken.configuration == BridgeConfiguration())

        let twice = load("server:\n  port: 1000\n  port: 2000\n")
        #expect(twice.problemKeys == ["server.port"])
        #expect(twice.problems.first?.message == "is given twice; keep one")
        #expect(twice.configuration.server.port == 1000)

        let list = load("- server\n")
        #expect(list.problems.first?.message.hasPrefix("expected sections") == true)
    }
}
