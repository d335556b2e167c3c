import BridgeCore

/// A model that needs no GPU: it writes seeded, plausible text at a chosen speed, for demos, tests
/// and benchmarks. `plan(for:model:)` decides a whole answer up front; `SimulatedLLMClient` streams
/// it into the pipeline and `tokenbridge mock-llm` serves it over HTTP.
///
/// A request can adjust the answer with the usual OpenAI fields and with bridge test knobs under
/// `mock` (all optional; wrong types are ignored, negative numbers count as 0):
///
/// | field | effect |
/// |---|---|
/// | `max_tokens`, `max_completion_tokens` | cap the tokens produced, reasoning included (the smaller wins); a capped answer ends with finish reason `length` |
/// | `seed` | the answer's seed, instead of the configured one or the one derived from the messages |
/// | `mock.tokens` | answer length in tokens, reasoning excluded |
/// | `mock.rate` | tokens per second; 0 = as fast as possible |
/// | `mock.reasoning` | `true`/`false`: write a reasoning section first |
/// | `mock.reasoning_tokens` | length of the reasoning section |
/// | `mock.seed` | the seed; wins over `seed` |
/// | `mock.delay_ms` | wait this long before the first token (to exercise first-token timeouts) |
/// | `mock.fail_after` | stop after this many tokens (or at the end, if sooner) with an `upstream_disconnected` failure instead of a finish reason and usage |
///
/// Example: `{"messages":[...],"mock":{"tokens":50,"rate":0,"reasoning":true}}`.
public struct SimulatedModel: Sendable {
    /// The provider name in configuration (`llm.provider: simulated`).
    public static let provider = "simulated"
    /// No answer or reasoning section is longer than this, whatever a request asks, so one request
    /// cannot make the model hold gigabytes.
    public static let maximumTokens = 100_000

    /// How answers are made when a request does not say otherwise.
    public var configuration: Configuration

    /// A model answering with `configuration`.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Decides the whole answer to a chat completion request body: its outputs in order and when each is due.
    public func plan(for body: JSONObject, model: String) -> SimulatedAnswer {
        let options = SimulatedRequestOptions(body: body, defaults: configuration)
        let seed = options.seed ?? (configuration.seed != 0 ? configuration.seed : Self.seed(forMessages: body["messages"]))
        let reasoningLength = options.reasoning ? options.reasoningTokens : 0
        let naturalLength = reasoningLength + options.tokens
        let length = min(naturalLength, options.maxTokens ?? naturalLength)
        let capped = length < naturalLength

        var reasoningWriter = SimulatedTextGenerator(seed: seed, style: .reasoning, plannedLength: reasoningLength)
        var reasoning = reasoningWriter.take(min(reasoningLength, length))
        var textWriter = SimulatedTextGenerator(seed: seed, style: .answer, plannedLength: options.tokens)
        var text = textWriter.take(length - reasoning.count)
        if reasoning.count == reasoningLength { Self.endSentence(&reasoning) }
        if !capped { Self.endSentence(&text) }

        var outputs: [LLMOutput] = reasoning.map(LLMOutput.reasoning) + text.map(LLMOutput.text)
        var failure: StreamFailure?
        if let failAfter = options.failAfter {
            outputs.removeLast(outputs.count - min(failAfter, outputs.count))
            failure = StreamFailure(
                code: .upstreamDisconnected,
                message: "The simulated model failed after \(outputs.count) tokens, as mock.fail_after asked.")
        }
        let produced = outputs.count
        var details = JSONObject()
        if options.reasoning {
            details["completion_tokens_details"] = ["reasoning_tokens": .integer(Int64(min(reasoning.count, produced)))]
        }
        let usage = Usage(
            promptTokens: Self.promptTokens(forMessages: body["messages"]), completionTokens: produced, details: details)
        let finishReason = capped ? "length" : "stop"
        if failure == nil {
            outputs.append(.finishReason(finishReason))
            outputs.append(.usage(usage))
        }
        var answer = SimulatedAnswer(
            model: model, seed: seed, outputs: outputs, tokenCount: produced, finishReason: finishReason, usage: usage,
            failure: failure, tokensPerSecond: options.tokensPerSecond, initialDelay: options.initialDelay)
        answer.stamped = options.stamp
        return answer
    }

    /// A complete answer ends its last sentence, whatever token the count stopped on.
    private static func endSentence(_ tokens: inout [String]) {
        guard tokens.count >= 2, let last = tokens.last, !(last.hasSuffix(".") || last.hasSuffix("?")) else { return }
        tokens[tokens.count - 1] = "."
    }
}
