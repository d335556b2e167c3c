/// What loading produced: the configuration as far as it could be read, and everything wrong with it.
public struct ConfigLoadResult: Sendable {
    /// Defaults, overridden by every value that was read without a problem.
    public var configuration: BridgeConfiguration
    /// Every problem found, in file order, then environment, then validation. Empty means valid.
    public var problems: [ConfigProblem]
    /// The YAML file that was read; nil when only built-in defaults and the environment apply.
    public var filePath: String?
    /// Origin of each dotted key that does not come from the defaults.
    public var sources: [String: ConfigSource]

    public init(
        configuration: BridgeConfiguration, problems: [ConfigProblem], filePath: String?,
        sources: [String: ConfigSource]
    ) {
        self.configuration = configuration
        self.problems = problems
        self.filePath = filePath
        self.sources = sources
    }

    /// True when there is no problem at all.
    public var isValid: Bool { problems.isEmpty }

    /// The configuration, or every problem at once as a `ConfigError`.
    public func get() throws(ConfigError) -> BridgeConfiguration {
        guard problems.isEmpty else { throw ConfigError(problems: problems) }
        return configuration
    }

    /// The effective configuration as YAML; with `showingSources`, keys that are not defaults carry
    /// a comment naming their file line or environment variable (what `check-config` wants).
    public func renderYAML(redactingSecrets: Bool, showingSources: Bool) -> String {
        ConfigRenderer.render(configuration, redactingSecrets: redactingSecrets) { key in
            showingSources ? sources[key].map { "from \($0)" } : nil
        }
    }
}

/// A configuration that cannot be used, with every reason.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every problem, as the load result listed them.
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    /// A count line, then one problem per line.
    public var description: String {
        let noun = problems.count == 1 ? "problem" : "problems"
        return (["configuration has \(problems.count) \(noun):"] + problems.map { "  \($0)" }).joined(separator: "\n")
    }
}
