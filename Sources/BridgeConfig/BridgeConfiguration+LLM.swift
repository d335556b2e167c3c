extension BridgeConfiguration {
    /// The model server the bridge calls, and how patiently.
    public struct LLM: Sendable, Equatable {
        /// Which client answers prompts.
        public enum Provider: String, Sendable, CaseIterable {
            /// Any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp...).
            case openai
            /// The built-in simulated model: no network, no GPU.
            case simulated
        }

        public var provider: Provider
        /// Base URL; the bridge POSTs `{url}/chat/completions`. Default is chatgpt-queue's `OPENAI_URL`.
        public var url: String
        /// Model used when a request names none (or always, with `forceModel`).
        public var model: String
        /// Sent as `Authorization: Bearer`; empty sends no header.
        public var apiKey: String
        /// Replace the model named in each request by `model`.
        public var forceModel: Bool
        public var timeouts: Timeouts
        /// Attempts after the first, only before the first token arrived (a retry after that would duplicate text).
        public var retries: Int
        /// First wait between attempts; doubles each time, jittered.
        public var retryBackoff: Duration
        /// Upper bound for the doubling backoff.
        public var retryBackoffMax: Duration
        /// Settings of the simulated provider.
        public var simulated: Simulated

        /// Defaults are the documented `llm` section (chatgpt-queue's URL and model).
        public init(
            provider: Provider = .openai, url: String = "http://localhost:11434/v1", model: String = "deepseek-r1:8b",
            apiKey: String = "", forceModel: Bool = false, timeouts: Timeouts = Timeouts(), retries: Int = 2,
            retryBackoff: Duration = .milliseconds(500), retryBackoffMax: Duration = .seconds(10),
            simulated: Simulated = Simulated()
        ) {
            self.provider = provider
            self.url = url
            self.model = model
            self.apiKey = apiKey
            self.forceModel = forceModel
            self.timeouts = timeouts
            self.retries = retries
            self.retryBackoff = retryBackoff
            self.retryBackoffMax = retryBackoffMax
            self.simulated = simulated
        }
    }
}

extension BridgeConfiguration.LLM {
    /// Limits on one upstream call; each ends the stream with an `upstream_timeout` error.
    public struct Timeouts: Sendable, Equatable {
        /// TCP and TLS setup.
        public var connect: Duration
        /// From sending the request to the first token; generous because models load lazily.
        public var firstToken: Duration
        /// Longest silence between two tokens once streaming.
        public var idle: Duration
        /// Whole call, however busy.
        public var total: Duration

        /// Defaults are the documented `llm.timeouts` section.
        public init(
            connect: Duration = .seconds(10), firstToken: Duration = .seconds(120), idle: Duration = .seconds(60),
            total: Duration = .seconds(30 * 60)
        ) {
            self.connect = connect
            self.firstToken = firstToken
            self.idle = idle
            self.total = total
        }
    }

    /// The simulated model: deterministic text at a chosen pace.
    public struct Simulated: Sendable, Equatable {
        /// Tokens per answer.
        public var tokens: Int
        /// Tokens per second; 0 sends as fast as possible.
        public var rate: Double
        /// Random seed; 0 derives it from the prompt so the same prompt gives the same answer.
        public var seed: UInt64
        /// Emit a reasoning phase before the answer.
        public var reasoning: Bool

        /// Defaults are the documented `llm.simulated` section.
        public init(tokens: Int = 120, rate: Double = 40, seed: UInt64 = 0, reasoning: Bool = false) {
            self.tokens = tokens
            self.rate = rate
            self.seed = seed
            self.reasoning = reasoning
        }
    }
}
