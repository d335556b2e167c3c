import Foundation
import Testing

@testable import BridgeConfig

@Suite struct DefaultsTests {
    @Test func defaultsAreTheDocumentedValues() {
        let config = BridgeConfiguration()
        #expect(config.server.host == "0.0.0.0")
        #expect(config.server.port == 8080)
        #expect(config.server.webRoot == "web")
        #expect(config.server.apiKeys.isEmpty)
        #expect(config.server.allowedOrigins == ["*"])
        #expect(config.server.sseKeepalive == .seconds(15))
        #expect(config.server.limits == .init(maxBodyBytes: 1_048_576, maxHeaderBytes: 16_384, maxPendingBytes: 8 << 20))
        #expect(config.llm.provider == .openai)
        #expect(config.llm.url == "http://localhost:11434/v1")
        #expect(config.llm.model == "deepseek-r1:8b")
        #expect(config.llm.apiKey.isEmpty)
        #expect(config.llm.timeouts.firstToken == .seconds(120))
        #expect(config.llm.timeouts.total == .seconds(1800))
        #expect(config.llm.retries == 2)
        #expect(config.llm.retryBackoff == .milliseconds(500))
        #expect(config.llm.simulated == .init(tokens: 120, rate: 40, seed: 0, reasoning: false))
        #expect(config.pipeline.maxConcurrentStreams == 1000)
        #expect(config.pipeline.retention == .seconds(600))
        #expect(config.pipeline.retentionMaxBytes == 16 << 20)
        #expect(config.ingress.http.enabled)
        #expect(!config.ingress.rabbitmq.enabled)
        #expect(config.ingress.rabbitmq.url == "amqp://guest:guest@localhost:5672/")
        #expect(config.ingress.rabbitmq.queue == "chat_incoming")
        #expect(config.ingress.rabbitmq.consumerTimeout == .seconds(1800))
        #expect(config.ingress.rabbitmq.controlExchange == "tokenbridge.control")
        #expect(config.ingress.rabbitmq.tls.verifyPeer)
        #expect(config.sinks.rabbitmq.deliveryMode == .persistent)
        #expect(config.sinks.rabbitmq.coalesceWindow == .zero)
        #expect(config.sinks.default == [.websocket])
        #expect(config.sinks.allowed == [.websocket, .rabbitmq, .centrifugo])
        #expect(config.sinks.rabbitmq.responseQueuePrefix == "response_")
        #expect(config.sinks.centrifugo.channelTemplate == "stream_{uid}")
        #expect(config.channels.prefix == "stream_")
        #expect(config.channels.pingInterval == .seconds(25))
        #expect(config.channels.historySize == 10_000)
        #expect(config.channels.historyMaxBytes == 256 << 20)
        #expect(config.channels.auth.mode == .insecure)
        #expect(config.log.level == .info)
    }

    @Test func defaultsAreValid() {
        #expect(BridgeConfiguration().validate().isEmpty)
    }

    @Test func emptyYAMLGivesDefaults() {
        for text in ["", "# only a comment\n", "~\n"] {
            let result = load(text)
            #expect(result.problems.isEmpty, "\(text)")
            #expect(result.configuration == BridgeConfiguration())
            #expect(result.sources.isEmpty)
        }
    }

    @Test func renderedYAMLLoadsBackEqual() {
        var config = BridgeConfiguration()
        config.server.apiKeys = ["k1", "with \"quote\""]
        config.llm.simulated.rate = 2.5
        config.llm.timeouts.idle = .milliseconds(1500)
        config.sinks.default = [.rabbitmq, .websocket]
        config.channels.prefix = "yes"  // would read back as a boolean if it were not quoted
        let result = load(config.renderYAML(redactingSecrets: false))
        #expect(result.problems.isEmpty)
        #expect(result.configuration == config)
    }

    @Test func keyTableHasUniqueKeysAndVariables() {
        let keys = BridgeConfiguration.keys
        #expect(keys.count == 91)
        #expect(Set(keys.map(\.key)).count == keys.count)
        #expect(Set(keys.map(\.environmentVariable)).count == keys.count)
        let port = keys.first { $0.key == "server.port" }
        #expect(port?.environmentVariable == "TOKENBRIDGE_SERVER_PORT")
        #expect(port?.defaultValue == "8080")
        let legacy = Dictionary(
            uniqueKeysWithValues: keys.compactMap { key in key.legacyEnvironmentVariable.map { ($0, key.key) } })
        #expect(
            legacy == [
                "RABBITMQ_URL": "ingress.rabbitmq.url", "RABBITMQ_QUEUE": "ingress.rabbitmq.queue",
                "RESPONSE_QUEUE_PREFIX": "sinks.rabbitmq.response_queue_prefix", "OPENAI_URL": "llm.url",
                "OPENAI_MODEL": "llm.model", "OPENAI_API_KEY": "llm.api_key", "LOG_LEVEL": "log.level",
                "CENTRIFUGO_API_URL": "sinks.centrifugo.api_url", "CENTRIFUGO_API_KEY": "sinks.centrifugo.api_key",
            ])
    }
}
