/// Everything the bridge can be told, as one typed value.
///
/// Defaults live in the memberwise initialisers, so `BridgeConfiguration()` is the documented
/// configuration; `config/tokenbridge.yaml` spells the same values out and a test keeps the two equal.
/// Load it with `load(path:environment:)`, which also applies environment overrides and validation.
public struct BridgeConfiguration: Sendable, Equatable {
    public var server: Server
    public var llm: LLM
    public var pipeline: Pipeline
    public var ingress: Ingress
    public var sinks: Sinks
    public var channels: Channels
    public var log: Log

    /// Every section defaults to its documented values.
    public init(
        server: Server = Server(), llm: LLM = LLM(), pipeline: Pipeline = Pipeline(), ingress: Ingress = Ingress(),
        sinks: Sinks = Sinks(), channels: Channels = Channels(), log: Log = Log()
    ) {
        self.server = server
        self.llm = llm
        self.pipeline = pipeline
        self.ingress = ingress
        self.sinks = sinks
        self.channels = channels
        self.log = log
    }
}
