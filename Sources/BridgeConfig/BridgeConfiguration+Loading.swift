import Foundation

extension BridgeConfiguration {
    /// Read when `load` gets no path and `TOKENBRIDGE_CONFIG` is unset; relative to the current directory.
    public static let defaultPath = "config/tokenbridge.yaml"
    /// Names the configuration file when no path is given, for containers where flags are awkward.
    public static let pathVariable = "TOKENBRIDGE_CONFIG"

    /// Loads defaults, then the YAML file, then environment overrides, then validates.
    ///
    /// The file is `path`, else `$TOKENBRIDGE_CONFIG`, else `config/tokenbridge.yaml` when it exists,
    /// else none (built-in defaults). Never throws: every problem is in the result, with its key and
    /// source; use `result.get()` to turn them into one error.
    /// - Parameter environment: usually `ProcessInfo.processInfo.environment`; tests pass their own.
    public static func load(path: String?, environment: [String: String]) -> ConfigLoadResult {
        load(path: path, environment: environment, defaultPath: defaultPath)
    }

    /// Like `load(path:environment:)` for YAML already in memory; `fileName` names it in problems.
    public static func load(yaml: String, fileName: String = "<yaml>", environment: [String: String])
        -> ConfigLoadResult
    {
        var loader = ConfigLoader()
        loader.apply(yaml: yaml, path: fileName)
        return finish(&loader, environment: environment, filePath: fileName)
    }

    static func load(path: String?, environment: [String: String], defaultPath: String) -> ConfigLoadResult {
        var loader = ConfigLoader()
        var filePath: String?
        if let (chosen, origin) = chooseFile(path: path, environment: environment, defaultPath: defaultPath) {
            if !FileManager.default.fileExists(atPath: chosen) {
                loader.report(nil, origin, "configuration file '\(chosen)' does not exist")
            } else {
                do {
                    let text = try String(contentsOfFile: chosen, encoding: .utf8)
                    loader.apply(yaml: text, path: chosen)
                    filePath = chosen
                } catch {
                    loader.report(
                        nil, origin, "configuration file '\(chosen)' cannot be read: \(error.localizedDescription)")
                }
            }
        }
        return finish(&loader, environment: environment, filePath: filePath)
    }

    /// The file to read and what named it; nil when there is none and defaults apply.
    private static func chooseFile(
        path: String?, environment: [String: String], defaultPath: String
    ) -> (String, ConfigSource)? {
        if let path { return (path, .file(path: path, line: nil, column: nil)) }
        if let path = environment[pathVariable], !path.isEmpty { return (path, .environment(variable: pathVariable)) }
        // Only the implicit default may be missing: a file someone named must exist.
        guard FileManager.default.fileExists(atPath: defaultPath) else { return nil }
        return (defaultPath, .file(path: defaultPath, line: nil, column: nil))
    }

    private static func finish(
        _ loader: inout ConfigLoader, environment: [String: String], filePath: String?
    ) -> ConfigLoadResult {
        loader.apply(environment: environment, alsoAccepted: [pathVariable])
        loader.validate()
        return loader.result(filePath: filePath)
    }
}
