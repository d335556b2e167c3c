/// Where a configuration value came from.
public enum ConfigSource: Sendable, Equatable, CustomStringConvertible {
    /// The built-in default (or a value set in code).
    case builtIn
    /// A YAML file; line and column are 1-based and absent when the whole file is meant.
    case file(path: String, line: Int?, column: Int?)
    /// An environment variable.
    case environment(variable: String)

    /// `default`, `path:line:column` or `env NAME`.
    public var description: String {
        switch self {
        case .builtIn: "default"
        case .file(let path, let line?, let column?): "\(path):\(line):\(column)"
        case .file(let path, let line?, nil): "\(path):\(line)"
        case .file(let path, _, _): path
        case .environment(let variable): "env \(variable)"
        }
    }
}

/// One thing wrong with a configuration, precise enough to fix without reading code.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// Dotted file key (`llm.timeouts.first_token`); nil when no key is meant (bad YAML, unknown variable).
    public var key: String?
    /// Where the offending value (or the setting that required it) came from.
    public var source: ConfigSource
    /// What is wrong and, where possible, how to fix it.
    public var message: String

    public init(key: String?, source: ConfigSource, message: String) {
        self.key = key
        self.source = source
        self.message = message
    }

    /// `path:line:column: key: message`, the shape editors and CI logs link up.
    public var description: String {
        if let key { return "\(source): \(key): \(message)" }
        return "\(source): \(message)"
    }
}
