extension SimulatedModel {
    /// How the simulated model answers when a request does not say otherwise.
    public struct Configuration: Sendable, Equatable {
        /// The name listed on `/v1/models`; any requested model name is answered all the same.
        public var modelName: String
        /// Length of an answer in tokens, reasoning excluded.
        public var tokens: Int
        /// Tokens per second; 0 = as fast as possible.
        public var tokensPerSecond: Double
        /// The seed of every answer; 0 = derive one from the request's messages, so the same prompt
        /// gets the same answer.
        public var seed: UInt64
        /// Write a reasoning section first, delivered as reasoning output (as DeepSeek-R1 does).
        public var reasoning: Bool
        /// Length of the reasoning section in tokens.
        public var reasoningTokens: Int

        /// The defaults: 120 tokens at 50 tokens per second, seeded by the prompt, no reasoning.
        public init(
            modelName: String = "tokenbridge-simulated", tokens: Int = 120, tokensPerSecond: Double = 50,
            seed: UInt64 = 0, reasoning: Bool = false, reasoningTokens: Int = 30
        ) {
            self.modelName = modelName
            self.tokens = tokens
            self.tokensPerSecond = tokensPerSecond
            self.seed = seed
            self.reasoning = reasoning
            self.reasoningTokens = reasoningTokens
        }
    }
}
