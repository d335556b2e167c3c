import ArgumentParser
import BridgeConfig
import Foundation

/// `tokenbridge serve`: runs the bridge.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the bridge (reads config/tokenbridge.yaml when present).")

    @Option(name: .long, help: "Configuration file (default: config/tokenbridge.yaml when present).")
    var config: String?

    @Option(name: .long, help: "Listen on this port instead of server.port.")
    var port: Int?

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be 1-65535") }
    }

    func run() async throws {
        var configuration = try ConfigurationLoading.load(path: config)
        if let port { configuration.server.port = port }
        let bridge = try Bridge(configuration: configuration)
        try await bridge.runUntilSignalled()
    }
}

/// `tokenbridge check-config`: validates and prints the effective configuration.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration and print it with secrets redacted; list every problem at once.")

    @Option(name: .long, help: "Configuration file (default: config/tokenbridge.yaml when present).")
    var config: String?

    @Flag(name: .long, help: "Show where each value came from (default, file, environment variable).")
    var sources = false

    func run() throws {
        let result = BridgeConfiguration.load(path: config, environment: ProcessInfo.processInfo.environment)
        print(result.renderYAML(redactingSecrets: true, showingSources: sources), terminator: "")
        guard result.isValid else {
            var standardError = StandardError()
            print("\n\(result.problems.count) problem(s) in the configuration:", to: &standardError)
            for problem in result.problems { print("  - \(problem)", to: &standardError) }
            throw ExitCode(2)
        }
        var standardError = StandardError()
        print("configuration OK (\(result.filePath ?? "built-in defaults"))", to: &standardError)
    }
}

/// Loads the configuration or exits listing every problem.
enum ConfigurationLoading {
    static func load(path: String?) throws -> BridgeConfiguration {
        let result = BridgeConfiguration.load(path: path, environment: ProcessInfo.processInfo.environment)
        guard result.isValid else {
            var standardError = StandardError()
            print("tokenbridge: \(result.problems.count) problem(s) in the configuration:", to: &standardError)
            for problem in result.problems { print("  - \(problem)", to: &standardError) }
            throw ExitCode(2)
        }
        return result.configuration
    }
}

/// `print(..., to:)` target for standard error.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
