/// Collects validation problems, each pointing at where the offending key was set.
struct ConfigChecker {
    let sources: [String: ConfigSource]
    private(set) var problems: [ConfigProblem] = []

    init(sources: [String: ConfigSource]) {
        self.sources = sources
    }

    /// Reports `message` against `key` unless `condition` holds. `blaming` names the key whose
    /// setting made `key` necessary, when that is the line to point at (`mode: token` needs a secret).
    mutating func require(
        _ condition: Bool, _ key: String, _ message: @autoclosure () -> String, blaming: String? = nil
    ) {
        guard !condition else { return }
        let source = sources[key] ?? blaming.flatMap { sources[$0] } ?? .builtIn
        problems.append(ConfigProblem(key: key, source: source, message: message()))
    }

    mutating func require(_ value: Int, in range: ClosedRange<Int>, _ key: String) {
        if range.upperBound == .max {
            require(value >= range.lowerBound, key, "must be at least \(range.lowerBound), got \(value)")
        } else {
            require(
                range.contains(value), key, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
    }

    mutating func requirePositive(_ duration: Duration, _ key: String) {
        require(duration > .zero, key, "must be longer than 0, got \(ConfigDuration.format(duration))")
    }

    mutating func requireNotNegative(_ duration: Duration, _ key: String) {
        require(duration >= .zero, key, "must not be negative")
    }

    /// An empty URL is left to the caller to judge; a set one must parse with one of `schemes`.
    mutating func requireURL(_ text: String, schemes: [String], _ key: String) {
        guard !text.isEmpty, let problem = ConfigURL.problem(in: text, schemes: schemes) else { return }
        require(false, key, problem)
    }

    /// CORS origins: `*`, or `scheme://host[:port]` as browsers send them in `Origin`.
    mutating func requireOrigins(_ origins: [String], _ key: String) {
        for origin in origins where origin != "*" {
            if let problem = ConfigURL.problem(in: origin, schemes: ["http", "https"]) {
                require(false, key, "origin '\(origin)': \(problem)")
            }
        }
    }

    /// An AMQP queue or exchange name: at most 255 bytes with `reserve` left for what the bridge
    /// appends (`.dead`, a uid), and not in the broker's reserved `amq.` namespace.
    mutating func requireQueueName(_ name: String, _ key: String, reserve: Int, allowEmpty: Bool = false) {
        if name.isEmpty {
            require(allowEmpty, key, "must not be empty")
            return
        }
        let limit = 255 - reserve
        require(name.utf8.count <= limit, key, "must be at most \(limit) bytes (AMQP names stop at 255), got \(name.utf8.count)")
        require(!name.hasPrefix("amq."), key, "must not start with 'amq.': the broker reserves those names")
    }
}
