import BridgeCore

/// A whole simulated answer, decided up front: what to send, in order, and when.
///
/// A server streams it by sending `outputs[i]` at `offset(ofOutput: i)` after the request arrived,
/// then ending the stream (with `failure` when there is one).
public struct SimulatedAnswer: Sendable, Equatable {
    /// The model name to report, as the request named it.
    public var model: String
    /// The seed the text was written from.
    public var seed: UInt64
    /// Reasoning pieces, then text pieces, then (unless `failure`) the finish reason and the usage.
    public var outputs: [LLMOutput]
    /// How many leading `outputs` are tokens (reasoning or text), each paced by `interval`.
    public var tokenCount: Int
    /// `stop`, or `length` when `max_tokens` cut the answer short.
    public var finishReason: String
    /// Prompt tokens estimated from the messages; completion tokens as produced, reasoning included.
    public var usage: Usage
    /// Set when the request asked for a failure (`mock.fail_after`): the stream ends with it instead
    /// of a finish reason.
    public var failure: StreamFailure?
    /// Tokens per second; 0 = as fast as possible.
    public var tokensPerSecond: Double
    /// Time before the first token's own interval starts.
    public var initialDelay: Duration
    /// Each text token is replaced, when sent, by its send time: `<uptime nanoseconds>` (the
    /// system's monotonic clock), so a benchmark can measure delivery latency token by token.
    public var stamped = false

    /// An answer as given; `SimulatedModel.plan(for:model:)` is the usual way to get one.
    public init(
        model: String, seed: UInt64, outputs: [LLMOutput], tokenCount: Int, finishReason: String, usage: Usage,
        failure: StreamFailure?, tokensPerSecond: Double, initialDelay: Duration
    ) {
        self.model = model
        self.seed = seed
        self.outputs = outputs
        self.tokenCount = tokenCount
        self.finishReason = finishReason
        self.usage = usage
        self.failure = failure
        self.tokensPerSecond = tokensPerSecond
        self.initialDelay = initialDelay
    }

    /// Time between two tokens; zero when unpaced.
    public var interval: Duration {
        .nanoseconds(intervalNanoseconds)
    }

    /// When `outputs[index]` is due, counted from the start: token `i` after `initialDelay` plus
    /// `i + 1` intervals, the finish reason and usage together with the last token.
    public func offset(ofOutput index: Int) -> Duration {
        .nanoseconds(offsetNanoseconds(ofOutput: index))
    }

    /// The text the answer holds, as a non-streaming response carries it.
    public var text: String {
        outputs.reduce(into: "") { text, output in
            if case .text(let piece) = output { text += piece }
        }
    }

    /// The reasoning the answer holds; empty when there is none.
    public var reasoning: String {
        outputs.reduce(into: "") { text, output in
            if case .reasoning(let piece) = output { text += piece }
        }
    }

    // MARK: - Nanoseconds, for the pacer

    /// At most an hour between tokens, so a tiny rate cannot overflow the arithmetic.
    var intervalNanoseconds: Int64 {
        guard tokensPerSecond > 0, tokensPerSecond.isFinite else { return 0 }
        return Int64(min(1e9 / tokensPerSecond, 3.6e12).rounded())
    }

    var initialDelayNanoseconds: Int64 {
        let delay = initialDelay.components
        return delay.seconds * 1_000_000_000 + delay.attoseconds / 1_000_000_000
    }

    func offsetNanoseconds(ofOutput index: Int) -> Int64 {
        let delayNanoseconds = initialDelayNanoseconds
        let paced = Int64(min(max(index, 0), max(tokenCount - 1, 0)) + (tokenCount > 0 ? 1 : 0))
        let (product, overflow) = intervalNanoseconds.multipliedReportingOverflow(by: paced)
        return overflow ? .max : delayNanoseconds + product
    }
}
