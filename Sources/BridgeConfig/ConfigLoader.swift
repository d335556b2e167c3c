/// Builds a configuration from defaults, a YAML text and the environment, collecting every problem
/// instead of stopping at the first: a deploy that fails should say everything that is wrong.
struct ConfigLoader {
    private(set) var configuration = BridgeConfiguration()
    private(set) var problems: [ConfigProblem] = []
    /// Origin of each key set so far, so later problems can point at the line or variable.
    private(set) var sources: [String: ConfigSource] = [:]

    /// Types and stores one value; a value that does not fit is reported and the previous value kept.
    mutating func assign(_ field: ConfigField, key: String, input: ConfigInput, source: ConfigSource) {
        do {
            try field.assign(&configuration, input)
            sources[key] = source
        } catch {
            report(key, source, (error as? ConfigValueError)?.message ?? "\(error)")
        }
    }

    mutating func report(_ key: String?, _ source: ConfigSource, _ message: String) {
        problems.append(ConfigProblem(key: key, source: source, message: message))
    }

    /// Cross-key and range checks, run once every source has been applied.
    mutating func validate() {
        problems += configuration.validate(sources: sources)
    }

    func result(filePath: String?) -> ConfigLoadResult {
        ConfigLoadResult(configuration: configuration, problems: problems, filePath: filePath, sources: sources)
    }
}
