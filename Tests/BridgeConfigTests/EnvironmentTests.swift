import Testing

@testable import BridgeConfig

@Suite struct EnvironmentTests {
    @Test func overridesScalarsNestedKeysListsAndBooleans() {
        let result = load(
            "",
            [
                "TOKENBRIDGE_SERVER_PORT": "9000",
                "TOKENBRIDGE_LLM_TIMEOUTS_FIRST_TOKEN": "5s",
                "TOKENBRIDGE_SERVER_LIMITS_MAX_BODY_BYTES": "2MiB",
                "TOKENBRIDGE_SERVER_API_KEYS": "k1, k2,,",
                "TOKENBRIDGE_SINKS_DEFAULT": "websocket,rabbitmq",
                "TOKENBRIDGE_INGRESS_RABBITMQ_ENABLED": "yes",
                "TOKENBRIDGE_LLM_FORCE_MODEL": "1",
                "TOKENBRIDGE_CHANNELS_AUTH_ALLOW_ANONYMOUS_STREAMS": "No",
                "TOKENBRIDGE_LLM_PROVIDER": "SIMULATED",
                "TOKENBRIDGE_LLM_SIMULATED_RATE": "12.5",
            ])
        #expect(result.problems.isEmpty, "\(result.problems)")
        let config = result.configuration
        #expect(config.server.port == 9000)
        #expect(config.llm.timeouts.firstToken == .seconds(5))
        #expect(config.server.limits.maxBodyBytes == 2 << 20)
        #expect(config.server.apiKeys == ["k1", "k2"])
        #expect(config.sinks.default == [.websocket, .rabbitmq])
        #expect(config.ingress.rabbitmq.enabled)
        #expect(config.llm.forceModel)
        #expect(!config.channels.auth.allowAnonymousStreams)
        #expect(config.llm.provider == .simulated)
        #expect(config.llm.simulated.rate == 12.5)
        #expect(result.sources["server.port"] == .environment(variable: "TOKENBRIDGE_SERVER_PORT"))
    }

    @Test func chatgptQueueNamesKeepWorking() {
        let result = load(
            "",
            [
                "RABBITMQ_URL": "amqp://u:p@broker:5672/",
                "RABBITMQ_QUEUE": "default-queue",
                "RESPONSE_QUEUE_PREFIX": "resp_",
                "OPENAI_URL": "https://api.openai.com/v1",
                "OPENAI_MODEL": "gpt-4o-mini",
                "OPENAI_API_KEY": "sk-test",
                "LOG_LEVEL": "warn",
                "CENTRIFUGO_API_URL": "http://centrifugo:8000/api",
                "CENTRIFUGO_API_KEY": "cent-key",
            ])
        #expect(result.problems.isEmpty, "\(result.problems)")
        let config = result.configuration
        #expect(config.ingress.rabbitmq.url == "amqp://u:p@broker:5672/")
        #expect(config.ingress.rabbitmq.queue == "default-queue")
        #expect(config.sinks.rabbitmq.responseQueuePrefix == "resp_")
        #expect(config.llm.url == "https://api.openai.com/v1")
        #expect(config.llm.model == "gpt-4o-mini")
        #expect(config.llm.apiKey == "sk-test")
        #expect(config.log.level == .warning)
        #expect(config.sinks.centrifugo.apiURL == "http://centrifugo:8000/api")
        #expect(config.sinks.centrifugo.apiKey == "cent-key")
        #expect(result.sources["llm.model"] == .environment(variable: "OPENAI_MODEL"))
    }

    @Test func precedenceIsDefaultsFileLegacyThenTokenBridge() {
        let yaml = """
            server: {port: 7000, host: 127.0.0.1}
            llm: {model: from-file, url: "http://file:1/v1"}
            log: {level: debug}
            """
        let result = load(
            yaml,
            [
                "TOKENBRIDGE_SERVER_PORT": "9000",
                "OPENAI_MODEL": "from-legacy",
                "OPENAI_URL": "http://legacy:2/v1",
                "TOKENBRIDGE_LLM_URL": "http://new:3/v1",
            ])
        #expect(result.problems.isEmpty, "\(result.problems)")
        let config = result.configuration
        #expect(config.server.port == 9000)  // env over file
        #expect(config.server.host == "127.0.0.1")  // file over default
        #expect(config.llm.model == "from-legacy")  // legacy env over file
        #expect(config.llm.url == "http://new:3/v1")  // TOKENBRIDGE_* over legacy
        #expect(config.log.level == .debug)
        #expect(config.pipeline == BridgeConfiguration().pipeline)
    }

    /// chatgpt-queue treated an empty variable as unset; Compose files rely on that.
    @Test func emptyLegacyVariableIsIgnoredButEmptyTokenBridgeVariableClears() {
        let result = load(
            "llm: {api_key: from-file}", ["OPENAI_URL": "", "OPENAI_API_KEY": "", "TOKENBRIDGE_CHANNELS_PREFIX": ""])
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.configuration.llm.url == "http://localhost:11434/v1")
        #expect(result.configuration.llm.apiKey == "from-file")
        #expect(result.configuration.channels.prefix == "")
    }

    @Test func unknownTokenBridgeVariablesAreProblemsWithSuggestions() {
        let result = load(
            "",
            [
                "TOKENBRIDGE_SERVER_PROT": "9000", "TOKENBRIDGE_WHATEVER": "1", "TOKENBRIDGE_CONFIG": "",
                "OTHER_VARIABLE": "ignored",
            ])
        #expect(result.problems.count == 2)
        let byVariable = Dictionary(uniqueKeysWithValues: result.problems.map { ("\($0.source)", $0.message) })
        #expect(byVariable["env TOKENBRIDGE_SERVER_PROT"]?.contains("did you mean TOKENBRIDGE_SERVER_PORT?") == true)
        #expect(byVariable["env TOKENBRIDGE_WHATEVER"]?.contains("unknown variable") == true)
    }

    @Test func badEnvironmentValuesNameTheVariable() {
        let result = load(
            "",
            [
                "TOKENBRIDGE_SERVER_PORT": "eighty", "TOKENBRIDGE_LLM_RETRIES": "", "LOG_LEVEL": "loud",
                "TOKENBRIDGE_INGRESS_HTTP_ENABLED": "maybe",
            ])
        #expect(result.problems.count == 4)
        #expect(result.problems.allSatisfy { if case .environment = $0.source { true } else { false } })
        let port = result.problems.first { $0.key == "server.port" }
        #expect(port?.description == "env TOKENBRIDGE_SERVER_PORT: server.port: expected a whole number, got 'eighty'")
        #expect(result.configuration.server.port == 8080)  // a bad value leaves the previous one
    }
}
