import BridgeCore

/// Turns the `data` of each SSE message of one upstream `chat.completion.chunk` stream into model
/// outputs. One decoder per upstream stream: it carries the think-tag state, the tool-call index
/// assignment and what the chunks said about the stream (`id`, `model`).
///
/// Reasoning arrives as `delta.reasoning_content` (DeepSeek, vLLM), `delta.reasoning` (Ollama,
/// OpenRouter, newer vLLM) or inline `<think>…</think>` in `content`; all of it becomes
/// `.reasoning`, never `.text`. Unknown fields are ignored. Only choice 0 is read: the bridge
/// asks for one choice.
public struct ChatChunkDecoder: Sendable {
    /// Whether `data: [DONE]` arrived; later messages are ignored.
    public private(set) var isDone = false
    /// The chunk `id` the model server sent (the last non-empty one).
    public private(set) var id: String?
    /// The `model` the model server reported (the last non-empty one).
    public private(set) var model: String?
    /// `system_fingerprint` (`fp_ollama` on Ollama), when sent.
    public private(set) var systemFingerprint: String?
    /// Whether a chunk carried a `finish_reason`: the answer is complete even if the server then
    /// closes without `[DONE]`.
    public private(set) var sawFinishReason = false
    /// Chunks decoded, `[DONE]` not counted.
    public private(set) var chunkCount = 0

    private var thinkTags: ThinkTagSplitter
    /// The last plain chunk's bytes around its text: most chunks repeat them.
    private var template: ChunkTemplate?
    /// Templates in a row that no chunk matched. A server that varies some field on every chunk
    /// (OpenAI's random `obfuscation`, a per-chunk timestamp) would otherwise have one copied
    /// out of every chunk for nothing; after a few the stream is read without them.
    private(set) var unmatchedTemplates = 0
    private var templateMatched = false
    /// `id`, `model` and `systemFingerprint` are what `template` would set: a match then leaves
    /// them be (assigning the same strings on every token retained and released each of them).
    private var identityIsTemplates = false
    static let unmatchedTemplateLimit = 3
    private var toolCallIndexer = ToolCallIndexer()

    /// - Parameter splitsThinkTags: look for inline `<think>` at the start of the content.
    public init(splitsThinkTags: Bool = true) {
        thinkTags = ThinkTagSplitter(enabled: splitsThinkTags)
    }

    /// Decodes one SSE message. `event: error` throws its message as `.upstreamError`; other named
    /// events are not chat chunks and are ignored.
    public mutating func decode(_ message: SSEMessage) throws(StreamFailure) -> [LLMOutput] {
        var message = message
        var outputs: [LLMOutput] = []
        // withUTF8 is not typed-throws: carry the outcome out as a Result.
        let event = message.event
        try message.data.withUTF8 { utf8 in
            Result { () throws(StreamFailure) in
                try decode(SSEMessageView(event: event, data: UnsafeRawBufferPointer(utf8), id: nil), into: &outputs)
            }
        }.get()
        return outputs
    }

    /// Decodes one `data` payload: a chunk, `[DONE]`, or an error object.
    public mutating func decode(data: String) throws(StreamFailure) -> [LLMOutput] {
        try decode(SSEMessage(data: data))
    }

    /// `decode(_:)` for a message still in the SSE decoder's bytes, its outputs appended to
    /// `outputs`: the path every token of an upstream stream takes.
    public mutating func decode(_ message: SSEMessageView, into outputs: inout [LLMOutput]) throws(StreamFailure) {
        switch message.event {
        case "message":
            try decode(data: message.data, into: &outputs)
        case "error":
            throw UpstreamErrorBody(text: String(decoding: message.data, as: UTF8.self)).failure()
        default:
            return
        }
    }

    private mutating func decode(data: UnsafeRawBufferPointer, into outputs: inout [LLMOutput]) throws(StreamFailure) {
        guard !isDone else { return }
        switch Self.classify(data) {
        case .blank:
            return
        case .done:
            isDone = true
            thinkTags.finish(into: &outputs)
            return
        case .json:
            break
        }
        // The scanner reads the bytes as they came. Invalid UTF-8 never passes it: a string it
        // makes is validated (and a failure gives up), and one it only compares or steps over
        // reads the same either way. The full decoder then gets the spec's decoding, U+FFFD for
        // each bad sequence, as it always has.
        if let template, let text = template.text(in: data) {
            templateMatched = true
            unmatchedTemplates = 0
            chunkCount += 1
            decode(text, of: template, into: &outputs)
            return
        }
        let known = ContentChunkScanner.Chunk(id: id, model: model, systemFingerprint: systemFingerprint)
        if let chunk = ContentChunkScanner.scan(data, known: known) {
            chunkCount += 1
            var madeTemplate = false
            if unmatchedTemplates < Self.unmatchedTemplateLimit, let next = ChunkTemplate(chunk: chunk, bytes: data) {
                if template != nil, !templateMatched { unmatchedTemplates += 1 }
                template = next
                templateMatched = false
                madeTemplate = true
            }
            decode(contentChunk: chunk, into: &outputs)
            // The template holds this chunk's id, model and fingerprint, which were just set.
            identityIsTemplates = madeTemplate
            return
        }
        identityIsTemplates = false
        let text = String(decoding: data, as: UTF8.self)
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            let excerpt = UpstreamErrorBody.shortened(text)
            throw StreamFailure(
                code: .upstreamProtocol, message: "The model server sent a chunk that is not valid JSON (\(error)): \(excerpt)")
        }
        guard let chunk = value.objectValue else {
            throw StreamFailure(
                code: .upstreamProtocol,
                message: "The model server sent a chunk that is a JSON \(value.typeName), not an object.")
        }
        chunkCount += 1
        outputs += try decode(chunk: chunk)
    }

    /// Releases content held back while a think tag was undecided; call when the stream ends
    /// without `[DONE]`.
    public mutating func finish() -> [LLMOutput] {
        thinkTags.finish()
    }

    // MARK: - Chunks

    private mutating func decode(chunk: JSONObject) throws(StreamFailure) -> [LLMOutput] {
        if let error = chunk["error"], !error.isNull {
            throw (UpstreamErrorBody(json: .object(chunk)) ?? UpstreamErrorBody(message: error.jsonString)).failure()
        }
        if chunk["object"]?.stringValue == "error" {
            // Older vLLM streams its ErrorResponse flat: {"object":"error","message":…}.
            throw (UpstreamErrorBody(json: .object(chunk)) ?? UpstreamErrorBody(message: "")).failure()
        }
        if let text = chunk["id"]?.stringValue, !text.isEmpty { id = text }
        if let text = chunk["model"]?.stringValue, !text.isEmpty { model = text }
        if let text = chunk["system_fingerprint"]?.stringValue, !text.isEmpty { systemFingerprint = text }

        var outputs: [LLMOutput] = []
        for choice in chunk["choices"]?.arrayValue ?? [] {
            guard let choice = choice.objectValue, (choice["index"]?.intValue ?? 0) == 0 else { continue }
            decode(choice: choice, into: &outputs)
        }
        // Groq reports usage under x_groq rather than at the top level.
        if let usage = Usage(openAI: chunk["usage"] ?? chunk["x_groq"]?["usage"]) {
            outputs.append(.usage(usage))
        }
        return outputs
    }

    /// The same outputs `decode(chunk:)` gives for a chunk of the shape the scanner accepts.
    private mutating func decode(contentChunk chunk: ContentChunkScanner.Chunk, into outputs: inout [LLMOutput]) {
        if let text = chunk.id, !text.isEmpty { id = text }
        if let text = chunk.model, !text.isEmpty { model = text }
        if let text = chunk.systemFingerprint, !text.isEmpty { systemFingerprint = text }
        if let reasoning = Self.nonEmpty(chunk.reasoningContent) ?? Self.nonEmpty(chunk.reasoning) {
            outputs.append(.reasoning(reasoning))
        }
        if let content = chunk.content {
            thinkTags.feed(content, into: &outputs)
        }
        if let reason = Self.nonEmpty(chunk.finishReason) {
            thinkTags.finish(into: &outputs)
            outputs.append(.finishReason(reason))
            sawFinishReason = true
        }
    }

    /// `decode(contentChunk:)` of the chunk the scanner would read from a match: `text` in the
    /// template's `field`, beside its id, model and fingerprint; without making that chunk.
    private mutating func decode(_ text: String, of template: ChunkTemplate, into outputs: inout [LLMOutput]) {
        if !identityIsTemplates {
            if let known = template.id, !known.isEmpty { id = known }
            if let known = template.model, !known.isEmpty { model = known }
            if let known = template.systemFingerprint, !known.isEmpty { systemFingerprint = known }
            identityIsTemplates = true
        }
        switch template.field {
        case .content: thinkTags.feed(text, into: &outputs)
        case .reasoningContent, .reasoning: if !text.isEmpty { outputs.append(.reasoning(text)) }
        }
    }

    private mutating func decode(choice: JSONObject, into outputs: inout [LLMOutput]) {
        if let delta = choice["delta"]?.objectValue {
            // vLLM in transition sends the same text under both names: take one, never both.
            if let reasoning = Self.nonEmpty(delta["reasoning_content"]) ?? Self.nonEmpty(delta["reasoning"]) {
                outputs.append(.reasoning(reasoning))
            }
            if let content = delta["content"]?.stringValue {
                outputs.append(contentsOf: thinkTags.feed(content))
            }
            if let refusal = Self.nonEmpty(delta["refusal"]) {
                outputs.append(.text(refusal))
            }
            for call in delta["tool_calls"]?.arrayValue ?? [] {
                if let piece = toolCallIndexer.delta(from: call) { outputs.append(.toolCall(piece)) }
            }
        }
        if let reason = Self.nonEmpty(choice["finish_reason"]) {
            outputs.append(contentsOf: thinkTags.finish())
            outputs.append(.finishReason(reason))
            sawFinishReason = true
        }
    }

    // MARK: - Helpers

    private enum PayloadKind { case blank, done, json }

    private static func classify(_ data: UnsafeRawBufferPointer) -> PayloadKind {
        guard let first = data.first(where: { !ThinkTagSplitter.isWhitespace($0) }) else { return .blank }
        guard first == UInt8(ascii: "["), data.count <= 32 else { return .json }
        let trimmed = data.filter { !ThinkTagSplitter.isWhitespace($0) }
        return trimmed.elementsEqual("[DONE]".utf8) ? .done : .json
    }

    private static func nonEmpty(_ value: JSONValue?) -> String? {
        nonEmpty(value?.stringValue)
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
