import BridgeCore

/// What the simulated model reads from the prompt: a seed, so the same messages give the same
/// answer, and a token estimate for usage.
extension SimulatedModel {
    /// A seed derived from the messages alone: the same conversation always gets the same answer,
    /// whatever the model name, stream flag or key order of the messages' objects.
    public static func seed(forMessages messages: JSONValue?) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        feed(messages ?? .null, into: &hash)
        return SplitMix64.mix(hash)
    }

    /// Prompt tokens as a tokenizer would roughly count them: a quarter of the characters of the
    /// messages' text, at least 1.
    public static func promptTokens(forMessages messages: JSONValue?) -> Int {
        var characters = 0
        for message in messages?.arrayValue ?? [] {
            switch message["content"] {
            case .string(let text):
                characters += text.unicodeScalars.count
            case .array(let parts):
                for part in parts {
                    characters += part["text"]?.stringValue?.unicodeScalars.count ?? 0
                }
            default:
                break
            }
        }
        return max(1, (characters + 3) / 4)
    }

    // MARK: - Hashing

    /// FNV-1a over a canonical walk of the value: a type tag, then the contents; object keys sorted.
    private static func feed(_ value: JSONValue, into hash: inout UInt64) {
        switch value {
        case .null:
            feed(byte: 0, into: &hash)
        case .bool(let flag):
            feed(byte: flag ? 2 : 1, into: &hash)
        case .number(let number):
            // 3 == 3.0 in JSON: hash integral doubles as integers.
            if let integer = Int64(exactly: number) {
                feed(integer: integer, into: &hash)
            } else {
                feed(byte: 3, into: &hash)
                feed(word: number.bitPattern, into: &hash)
            }
        case .integer(let integer):
            feed(integer: integer, into: &hash)
        case .string(let text):
            feed(byte: 5, into: &hash)
            feed(word: UInt64(text.utf8.count), into: &hash)
            for byte in text.utf8 { feed(byte: byte, into: &hash) }
        case .array(let elements):
            feed(byte: 6, into: &hash)
            feed(word: UInt64(elements.count), into: &hash)
            for element in elements { feed(element, into: &hash) }
        case .object(let object):
            feed(byte: 7, into: &hash)
            feed(word: UInt64(object.count), into: &hash)
            for entry in object.entries.sorted(by: { $0.key < $1.key }) {
                feed(.string(entry.key), into: &hash)
                feed(entry.value, into: &hash)
            }
        }
    }

    private static func feed(integer: Int64, into hash: inout UInt64) {
        feed(byte: 4, into: &hash)
        feed(word: UInt64(bitPattern: integer), into: &hash)
    }

    private static func feed(word: UInt64, into hash: inout UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) {
            feed(byte: UInt8(truncatingIfNeeded: word >> UInt64(shift)), into: &hash)
        }
    }

    private static func feed(byte: UInt8, into hash: inout UInt64) {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
}
