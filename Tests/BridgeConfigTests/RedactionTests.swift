import Testing

@testable import BridgeConfig

@Suite struct RedactionTests {
    private var secretive: BridgeConfiguration {
        var config = BridgeConfiguration()
        config.server.apiKeys = ["key-one", "key-two"]
        config.llm.apiKey = "sk-live-123"
        config.sinks.centrifugo.apiURL = "https://admin:hunter2@centrifugo.example/api"
        config.sinks.centrifugo.apiKey = "cent-secret"
        config.channels.apiKey = "channel-secret"
        config.channels.auth.hmacSecret = "hmac-secret"
        config.ingress.rabbitmq.url = "amqps://bridge:s3cret@broker.example:5671/vhost"
        return config
    }

    @Test func secretsAreRedacted() {
        let yaml = secretive.renderYAML(redactingSecrets: true)
        for secret in [
            "key-one", "key-two", "sk-live-123", "hunter2", "cent-secret", "channel-secret", "hmac-secret", "s3cret",
        ] {
            #expect(!yaml.contains(secret), "\(secret) leaked")
        }
        #expect(yaml.contains("api_keys: [\"<redacted>\", \"<redacted>\"]"))
        #expect(yaml.contains("url: \"amqps://bridge:<redacted>@broker.example:5671/vhost\""))
        #expect(yaml.contains("api_url: \"https://admin:<redacted>@centrifugo.example/api\""))
        #expect(yaml.contains("hmac_secret: \"<redacted>\""))
    }

    @Test func emptySecretsStayEmptySoTheReaderSeesTheyAreUnset() {
        let yaml = BridgeConfiguration().renderYAML(redactingSecrets: true)
        #expect(yaml.contains("  api_key: \"\""))
        #expect(yaml.contains("api_keys: []"))
        // The default broker URL's guest password is a secret like any other.
        #expect(yaml.contains("url: \"amqp://guest:<redacted>@localhost:5672/\""))
    }

    @Test func unredactedRenderingKeepsSecretsAndListsEveryKey() {
        let yaml = secretive.renderYAML(redactingSecrets: false)
        #expect(yaml.contains("sk-live-123"))
        #expect(!yaml.contains("<redacted>"))
        #expect(yaml.contains("  websocket: {}\n"))
        #expect(yaml.contains("    first_token: 2m\n"))
        let result = load(yaml)
        #expect(result.problems.isEmpty)
        #expect(result.configuration == secretive)
        #expect(Set(result.sources.keys) == Set(BridgeConfiguration.keys.map(\.key)))
    }

    @Test func redactionLeavesURLsWithoutPasswordsAlone() {
        #expect(ConfigURL.redactingPassword("http://localhost:11434/v1") == "http://localhost:11434/v1")
        #expect(ConfigURL.redactingPassword("amqp://user@host/") == "amqp://user@host/")
        #expect(ConfigURL.redactingPassword("amqp://u:@host/") == "amqp://u:@host/")
        #expect(ConfigURL.redactingPassword("amqp://u:p@ss@host/x@y") == "amqp://u:<redacted>@host/x@y")
    }

    @Test func sourcesCanBeShown() {
        let result = load("server: {port: 9001}", ["TOKENBRIDGE_LLM_MODEL": "m"])
        let yaml = result.renderYAML(redactingSecrets: true, showingSources: true)
        #expect(yaml.contains("  port: 9001  # from test.yaml:1:10\n"))
        #expect(yaml.contains("  model: \"m\"  # from env TOKENBRIDGE_LLM_MODEL\n"))
        #expect(yaml.contains("  host: \"0.0.0.0\"\n"))
    }
}
