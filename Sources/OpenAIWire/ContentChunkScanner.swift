import BridgeCore
import Glibc

/// Reads the common chunk, one choice whose delta carries only `role`, `content` and reasoning
/// text, straight from the bytes, materialising only those strings.
///
/// The full JSON tree of every chunk (ids, object names, fingerprints, nested arrays) was the
/// largest part of the bridge's per-token cost in a profile. Anything this scanner does not
/// recognise (tool calls, usage, errors, several choices, odd shapes) makes it give up, and the
/// decoder parses the chunk in full as before, so the outputs never differ.
struct ContentChunkScanner {
    struct Chunk {
        var content: String?
        var reasoningContent: String?
        var reasoning: String?
        var finishReason: String?
        var id: String?
        var model: String?
        var systemFingerprint: String?
        /// Where the delta's text strings stood (quotes included), and how many there were;
        /// nulls not counted. `ChunkTemplate` is made from a chunk with exactly one.
        var textValue: Range<Int>?
        var textValueCount = 0
    }

    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    /// The chunk's parts, or nil when the full decoder must handle it.
    ///
    /// - Parameter bytes: a String's UTF-8 (so valid UTF-8).
    /// - Parameter known: the stream's id, model and fingerprint so far. They repeat on every
    ///   chunk; when the bytes are the same they are not made into Strings again (the result then
    ///   carries the known value, which is what decoding them would give).
    static func scan(_ bytes: UnsafeRawBufferPointer, known: Chunk = Chunk()) -> Chunk? {
        var scanner = ContentChunkScanner(bytes: bytes)
        return scanner.topLevel(known: known)
    }

    private init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    // MARK: - Shape

    private mutating func topLevel(known: Chunk) -> Chunk? {
        var chunk = Chunk()
        var sawChoices = false
        let complete = members { scanner, key in
            switch key {
            case "choices":
                // A repeated key counts once, with its last value, in the parser: leave that to it.
                guard !sawChoices else { return false }
                sawChoices = true
                return scanner.choices(into: &chunk)
            case "id":
                return scanner.optionalString(into: &chunk.id, unlessEqualTo: known.id)
            case "model":
                return scanner.optionalString(into: &chunk.model, unlessEqualTo: known.model)
            case "system_fingerprint":
                return scanner.optionalString(into: &chunk.systemFingerprint, unlessEqualTo: known.systemFingerprint)
            case "usage", "error", "x_groq":
                return scanner.isNull()
            case "object":
                // Compared where it stands: "chat.completion.chunk" on every chunk is too long
                // for a small String, so reading it would allocate each time.
                guard let object = scanner.plainString() else { return scanner.isNull() }
                return !("error" ~= Key(bytes: object))
            default:
                return scanner.skipValue(depth: 1)
            }
        }
        skipWhitespace()
        guard complete, sawChoices, index == bytes.count else { return nil }
        return chunk
    }

    private mutating func choices(into chunk: inout Chunk) -> Bool {
        skipWhitespace()
        guard consume(UInt8(ascii: "[")) else { return false }
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return true }
        guard choice(into: &chunk) else { return false }
        skipWhitespace()
        return consume(UInt8(ascii: "]"))  // more than one choice: the full decoder decides
    }

    private mutating func choice(into chunk: inout Chunk) -> Bool {
        var sawDelta = false
        return members { scanner, key in
            switch key {
            case "index":
                if scanner.consumeZero() { return true }
                guard case .integer(0)? = scanner.value() else { return false }
                return true
            case "delta":
                guard !sawDelta else { return false }
                sawDelta = true
                return scanner.delta(into: &chunk)
            case "finish_reason":
                return scanner.optionalString(into: &chunk.finishReason)
            case "logprobs":
                return scanner.skipValue(depth: 3)
            default:
                return false
            }
        }
    }

    private mutating func delta(into chunk: inout Chunk) -> Bool {
        members { scanner, key in
            let start = scanner.index
            let read: Bool
            switch key {
            case "content": read = scanner.optionalString(into: &chunk.content)
            case "reasoning_content": read = scanner.optionalString(into: &chunk.reasoningContent)
            case "reasoning": read = scanner.optionalString(into: &chunk.reasoning)
            case "role": return scanner.skipValue(depth: 4)
            default: return false
            }
            if read, scanner.bytes[start] == UInt8(ascii: "\"") {
                chunk.textValue = start..<scanner.index
                chunk.textValueCount += 1
            }
            return read
        }
    }

    // MARK: - Tokens

    /// Walks an object's members, handing each key to `member`, which must consume the value.
    /// Keys are compared as bytes, never made into Strings: they are most of a chunk's strings.
    private mutating func members(_ member: (inout ContentChunkScanner, Key) -> Bool) -> Bool {
        skipWhitespace()
        guard consume(UInt8(ascii: "{")) else { return false }
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return true }
        while true {
            guard let key = rawKey() else { return false }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { return false }
            // Every reader starts at the value itself, and every key at its quote: the
            // `{"a": 1, "b": 2}` of Python's json.dumps takes the fast path as compact JSON does.
            skipWhitespace()
            guard member(&self, key) else { return false }
            skipWhitespace()
            guard consume(UInt8(ascii: ",")) else { return consume(UInt8(ascii: "}")) }
            skipWhitespace()
        }
    }

    /// A member name as it stands in the bytes.
    struct Key {
        let bytes: UnsafeRawBufferPointer

        static func ~= (pattern: StaticString, key: Key) -> Bool {
            // memcmp: the generic elementsEqual showed up in the profile.
            guard pattern.utf8CodeUnitCount == key.bytes.count else { return false }
            guard let base = key.bytes.baseAddress else { return key.bytes.isEmpty }
            return memcmp(pattern.utf8Start, base, key.bytes.count) == 0
        }
    }

    /// A key without escapes (an escaped key is left to the full decoder).
    private mutating func rawKey() -> Key? {
        plainString().map(Key.init(bytes:))
    }

    private mutating func value() -> JSONValue? {
        try? JSONParser.parseValue(in: bytes, at: &index)
    }

    /// A string or null; anything else gives up.
    private mutating func optionalString(into target: inout String?) -> Bool {
        switch value() {
        case .string(let text)?: target = text
        case .null?: target = nil
        default: return false
        }
        return true
    }

    /// `optionalString`, except that a plain string (no escapes) spelled exactly as `known` is
    /// stepped over and `known` taken.
    private mutating func optionalString(into target: inout String?, unlessEqualTo known: String?) -> Bool {
        // Only a plain string can be compared as bytes: an escape could make the same bytes a
        // different string, and a raw control character is invalid JSON the parser must reject.
        let start = index
        if var known, let raw = plainString() {
            let same = known.withUTF8 { utf8 -> Bool in
                guard utf8.count == raw.count else { return false }
                guard let left = raw.baseAddress, let right = utf8.baseAddress else { return raw.isEmpty }
                return memcmp(left, right, raw.count) == 0
            }
            if same {
                target = known
                return true
            }
            index = start
        }
        return optionalString(into: &target)
    }

    /// A string without escapes, stepped over and returned as its bytes; nil (nothing consumed)
    /// for anything else. The bytes are a String's, so their UTF-8 is valid already.
    private mutating func plainString() -> UnsafeRawBufferPointer? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        var end = index + 1
        // Eight bytes at a time up to the first quote, backslash or control character, then the
        // byte loop below decides what that byte is and reads any tail shorter than a word. The
        // strings read here are a chunk's member names, its `object` and the ids and names
        // compared with the stream's known ones: most of its bytes but the text.
        while end + 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: end, as: UInt64.self))
            let stops = Self.stopBytes(in: word)
            if stops != 0 {
                end += stops.trailingZeroBitCount / 8
                break
            }
            end += 8
        }
        while end < bytes.count {
            switch bytes[end] {
            case UInt8(ascii: "\""):
                defer { index = end + 1 }
                return UnsafeRawBufferPointer(rebasing: bytes[(index + 1)..<end])
            case UInt8(ascii: "\\"), 0..<0x20:
                return nil
            default:
                end += 1
            }
        }
        return nil
    }

    /// A byte mask of `word`'s quotes, backslashes and control characters (below 0x20): the high
    /// bit of each such byte set. Exact at the lowest flagged byte, the first in memory order;
    /// bytes above a flagged one may be flagged falsely (a borrow runs on), which the caller never
    /// reads. UTF-8's bytes from 0x80 up are never flagged.
    static func stopBytes(in word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        /// The high bit of every byte of `value` below `limit` (at most 0x80), and perhaps of bytes above one.
        func below(_ limit: UInt64, _ value: UInt64) -> UInt64 { (value &- ones &* limit) & ~value & (ones &* 0x80) }
        // A quote or a backslash is a zero byte once the word is XORed with it.
        return below(1, word ^ (ones &* 0x22)) | below(1, word ^ (ones &* 0x5C)) | below(0x20, word)
    }

    /// The number 0 exactly (not 0.5, 01 or 0e1), the first choice's index on every chunk.
    private mutating func consumeZero() -> Bool {
        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "0"), Self.endsScalar(bytes[index + 1]) else { return false }
        index += 1
        return true
    }

    private mutating func isNull() -> Bool {
        value() == .null
    }

    /// Steps over a value the bridge does not read, checked as strictly as the full parser
    /// checks it (so a chunk the parser refuses is never taken here) but never built.
    /// - Parameter depth: the value's depth in the chunk (a top-level member's is 1, a choice
    ///   member's 3, a delta member's 4), so nesting is limited from the chunk's root, as in the parser.
    private mutating func skipValue(depth: Int) -> Bool {
        (try? JSONParser.skipValue(in: bytes, at: &index, depth: depth)) != nil
    }

    private static func endsScalar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09: return true
        default: return false
        }
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }
}
