import BridgeCore

/// Separates inline `<think>…</think>` reasoning from answer text, for models that stream their
/// reasoning inside `content` (DeepSeek-R1 distills, QwQ and others on Ollama or llama.cpp).
///
/// Only a `<think>` that opens the content, after optional whitespace, is a tag: that is where
/// these models put it, and a literal `<think>` later in ordinary prose stays text. Tags may
/// arrive split across pieces ("<thi" + "nk>"), so the splitter holds back only the trailing bytes
/// that could still be the start of a tag; everything else is released at once.
public struct ThinkTagSplitter: Sendable {
    enum State: Sendable {
        /// Nothing but whitespace so far: the content may still open with `<think>`.
        case opening
        /// Just after `<think>`: the model writes "<think>\n", and that newline is not reasoning.
        case enteringThought
        /// Inside the think block.
        case thinking
        /// Just after `</think>`: whitespace separating reasoning from the answer is dropped.
        case closing
        /// Plain text from here on; nothing is looked at any more.
        case text
    }

    static let openTag = Array("<think>".utf8)
    static let closeTag = Array("</think>".utf8)

    private(set) var state: State
    /// Whether the content opened with a think block.
    public private(set) var sawThinkTag = false
    /// Bytes not released yet: leading whitespace and a possible tag prefix.
    private var held: [UInt8] = []

    /// - Parameter enabled: when false every piece is text (for models known not to think).
    public init(enabled: Bool = true) {
        state = enabled ? .opening : .text
    }

    /// Splits the next piece of content into `.reasoning` and `.text` outputs (in order, empty
    /// pieces left out).
    public mutating func feed(_ content: String) -> [LLMOutput] {
        var outputs: [LLMOutput] = []
        feed(content, into: &outputs)
        return outputs
    }

    /// `feed(_:)`, its outputs appended to `outputs` (no array of its own for every token).
    public mutating func feed(_ content: String, into outputs: inout [LLMOutput]) {
        switch state {
        case .text:
            if !content.isEmpty { outputs.append(.text(content)) }
        case .thinking where held.isEmpty && !content.utf8.contains(Self.closeTag[0]):
            // The common case inside a think block: no '<', so nothing here can start the close tag.
            if !content.isEmpty { outputs.append(.reasoning(content)) }
        default:
            held.append(contentsOf: content.utf8)
            process(into: &outputs)
        }
    }

    /// Releases whatever was held back: the content ended, so a partial tag is just content.
    public mutating func finish() -> [LLMOutput] {
        var outputs: [LLMOutput] = []
        finish(into: &outputs)
        return outputs
    }

    /// `finish()`, its output appended to `outputs`.
    public mutating func finish(into outputs: inout [LLMOutput]) {
        defer { held = [] }
        switch state {
        case .opening, .text, .closing, .enteringThought:
            state = .text
            if !held.isEmpty { outputs.append(.text(String(decoding: held, as: UTF8.self))) }
        case .thinking:
            if !held.isEmpty { outputs.append(.reasoning(String(decoding: held, as: UTF8.self))) }
        }
    }

    // MARK: - States

    private mutating func process(into outputs: inout [LLMOutput]) {
        // Each pass either waits for more bytes or moves to a later state, so this ends.
        while !held.isEmpty {
            switch state {
            case .opening:
                guard openIfTagged() else { return }
            case .enteringThought:
                guard dropLeadingWhitespace() else { return }
                state = .thinking
            case .thinking:
                if let reasoning = releaseReasoning() { outputs.append(.reasoning(reasoning)) }
                if state == .thinking { return }
            case .closing:
                guard dropLeadingWhitespace() else { return }
                state = .text
            case .text:
                outputs.append(.text(String(decoding: held, as: UTF8.self)))
                held = []
            }
        }
    }

    /// In `.opening`: decides whether the content opens with `<think>`; false while undecided.
    private mutating func openIfTagged() -> Bool {
        guard let start = held.firstIndex(where: { !Self.isWhitespace($0) }) else { return false }
        let candidate = held[start...]
        if candidate.starts(with: Self.openTag) {
            held.removeFirst(start + Self.openTag.count)
            state = .enteringThought
            sawThinkTag = true
            return true
        }
        if Self.openTag.starts(with: candidate) { return false }
        state = .text
        return true
    }

    /// In `.thinking`: returns the reasoning that is certainly not part of `</think>`.
    private mutating func releaseReasoning() -> String? {
        let end: Int
        if let close = Self.find(Self.closeTag, in: held) {
            end = close
        } else {
            end = held.count - Self.partialTagLength(Self.closeTag, atEndOf: held)
        }
        let reasoning = end > 0 ? String(decoding: held[..<end], as: UTF8.self) : nil
        if end < held.count, held[end...].starts(with: Self.closeTag) {
            held.removeFirst(end + Self.closeTag.count)
            state = .closing
        } else {
            held.removeFirst(end)
        }
        return reasoning
    }

    /// Drops whitespace at the front of `held`; true once something else follows it.
    private mutating func dropLeadingWhitespace() -> Bool {
        guard let start = held.firstIndex(where: { !Self.isWhitespace($0) }) else {
            held.removeAll(keepingCapacity: true)
            return false
        }
        held.removeFirst(start)
        return true
    }

    // MARK: - Byte helpers

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    static func find(_ tag: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= tag.count else { return nil }
        for start in 0...(bytes.count - tag.count) where bytes[start] == tag[0] {
            if bytes[start..<(start + tag.count)].elementsEqual(tag) { return start }
        }
        return nil
    }

    /// How many trailing bytes of `bytes` are a proper prefix of `tag` (the longest such).
    /// Tags are ASCII, so the split this implies never falls inside a multi-byte character.
    static func partialTagLength(_ tag: [UInt8], atEndOf bytes: [UInt8]) -> Int {
        var length = min(tag.count - 1, bytes.count)
        while length > 0 {
            if bytes[(bytes.count - length)...].elementsEqual(tag[..<length]) { return length }
            length -= 1
        }
        return 0
    }
}
