import ArgumentParser

/// `tokenbridge`: one executable, a subcommand per role.
@main
struct TokenBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenbridge",
        abstract: "Carries LLM answers, token by token, from an OpenAI-compatible model server to HTTP, queues and channels.",
        subcommands: [ServeCommand.self, MockLLMCommand.self, CheckConfigCommand.self, BenchCommand.self, BenchPathCommand.self],
        defaultSubcommand: ServeCommand.self)
}
