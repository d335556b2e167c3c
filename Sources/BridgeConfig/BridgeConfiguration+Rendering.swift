extension BridgeConfiguration {
    /// The configuration as YAML with every key, in the shipped file's order; it loads back to an
    /// equal value. With `redactingSecrets`, non-empty secrets (API keys, the HMAC secret, URL
    /// passwords) read `<redacted>`. This is what `tokenbridge check-config` prints.
    public func renderYAML(redactingSecrets: Bool) -> String {
        ConfigRenderer.render(self, redactingSecrets: redactingSecrets)
    }

    /// Every key the configuration accepts, for docs and `check-config`: the one mapping table.
    public static var keys: [ConfigKeyInfo] {
        let defaults = BridgeConfiguration()
        return ConfigSchema.entries.map { entry in
            ConfigKeyInfo(
                key: entry.key, environmentVariable: entry.variable,
                legacyEnvironmentVariable: entry.field.legacyVariable,
                kind: entry.field.kind, isSecret: entry.field.isSecret,
                defaultValue: entry.field.render(defaults, false))
        }
    }
}

/// One configuration key as documentation sees it.
public struct ConfigKeyInfo: Sendable, Equatable {
    /// Dotted file key, `llm.timeouts.first_token`.
    public var key: String
    /// `TOKENBRIDGE_LLM_TIMEOUTS_FIRST_TOKEN`.
    public var environmentVariable: String
    /// The chatgpt-queue name that also sets it (`OPENAI_URL`), weaker than `environmentVariable`.
    public var legacyEnvironmentVariable: String?
    /// Shape of a value: `duration`, `integer`, `list of strings`, `openai | simulated`...
    public var kind: String
    /// Redacted by `renderYAML(redactingSecrets: true)`; for URLs only the password part.
    public var isSecret: Bool
    /// The built-in default, spelled as YAML.
    public var defaultValue: String
}
