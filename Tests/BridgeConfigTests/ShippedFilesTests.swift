import Foundation
import Testing

@testable import BridgeConfig

@Suite struct ShippedFilesTests {
    @Test func tokenbridgeYAMLEqualsTheDefaults() throws {
        let result = BridgeConfiguration.load(path: shippedFile("tokenbridge.yaml"), environment: [:])
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.configuration == BridgeConfiguration())
        #expect(result.filePath == shippedFile("tokenbridge.yaml"))
    }

    /// The shipped file is the reference: it must spell out every key, not rely on defaults.
    @Test func tokenbridgeYAMLListsEveryKey() {
        let result = BridgeConfiguration.load(path: shippedFile("tokenbridge.yaml"), environment: [:])
        let missing = BridgeConfiguration.keys.map(\.key).filter { result.sources[$0] == nil }
        #expect(missing.isEmpty, "keys missing from config/tokenbridge.yaml: \(missing)")
    }

    @Test func demoYAMLRunsTheSimulatedModel() {
        let result = BridgeConfiguration.load(path: shippedFile("demo.yaml"), environment: [:])
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.configuration.llm.provider == .simulated)
        #expect(result.configuration.llm.simulated.rate == 40)
        #expect(result.configuration.server.port == 8080)
        #expect(result.configuration.pipeline == BridgeConfiguration().pipeline)
    }

    @Test func withoutPathTheDefaultFileIsReadWhenPresent() {
        let present = BridgeConfiguration.load(path: nil, environment: [:], defaultPath: shippedFile("demo.yaml"))
        #expect(present.filePath == shippedFile("demo.yaml"))
        #expect(present.configuration.llm.provider == .simulated)

        let absent = BridgeConfiguration.load(path: nil, environment: [:], defaultPath: "/nonexistent/tokenbridge.yaml")
        #expect(absent.problems.isEmpty)
        #expect(absent.filePath == nil)
        #expect(absent.configuration == BridgeConfiguration())
    }

    @Test func configVariableNamesTheFile() {
        let environment = [BridgeConfiguration.pathVariable: shippedFile("demo.yaml")]
        let result = BridgeConfiguration.load(path: nil, environment: environment, defaultPath: "/nonexistent/x.yaml")
        #expect(result.problems.isEmpty)
        #expect(result.configuration.llm.provider == .simulated)
    }

    @Test func aNamedFileMustExist() {
        let result = BridgeConfiguration.load(path: "/nonexistent/bridge.yaml", environment: [:])
        #expect(result.problems.count == 1)
        #expect(result.problems.first?.message.contains("does not exist") == true)
        #expect(throws: ConfigError.self) { try result.get() }
    }
}
