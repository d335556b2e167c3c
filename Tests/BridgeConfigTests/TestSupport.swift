import Foundation

@testable import BridgeConfig

/// The package's `config/` directory, found from this file so tests do not depend on the working directory.
let configDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("config")

func shippedFile(_ name: String) -> String {
    configDirectory.appendingPathComponent(name).path
}

/// Loads YAML text with the given environment and nothing from the host's environment.
func load(_ yaml: String, _ environment: [String: String] = [:]) -> ConfigLoadResult {
    BridgeConfiguration.load(yaml: yaml, fileName: "test.yaml", environment: environment)
}

extension ConfigLoadResult {
    /// Problem keys in order, for compact expectations.
    var problemKeys: [String?] { problems.map(\.key) }
}
