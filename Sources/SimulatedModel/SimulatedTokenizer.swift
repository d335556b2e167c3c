/// Cuts text into pieces shaped like a BPE tokenizer's: a word with its leading space (" model"),
/// punctuation on its own (","), runs of newlines ("\n\n"), and long words in a few pieces
/// (" configur", "ation"), so streams look like a real model's and token counts are plausible.
///
/// Works on UTF-8 bytes: the vocabulary is ASCII, and byte scanning is many times faster than
/// walking characters, which matters when a benchmark plans thousands of answers.
enum SimulatedTokenizer {
    private static let space = UInt8(ascii: " ")
    private static let newline = UInt8(ascii: "\n")
    private static let apostrophe = UInt8(ascii: "'")

    static func pieces(of text: String) -> [String] {
        let bytes = Array(text.utf8)
        var pieces: [String] = []
        var index = 0
        while index < bytes.count {
            let start = index
            switch bytes[index] {
            case newline:
                index = end(of: bytes, from: index) { $0 == newline }
                pieces.append(string(bytes[start..<index]))
            case space:
                let spacesEnd = end(of: bytes, from: index) { $0 == space }
                if spacesEnd == bytes.count || bytes[spacesEnd] == newline {
                    index = spacesEnd
                    pieces.append(string(bytes[start..<index]))
                } else {
                    // As BPE does: the last space sticks to what follows, the others make a piece of their own.
                    if spacesEnd - start > 1 { pieces.append(string(bytes[start..<spacesEnd - 1])) }
                    index = word(bytes, from: spacesEnd, prefixStart: spacesEnd - 1, into: &pieces)
                }
            default:
                index = word(bytes, from: index, prefixStart: index, into: &pieces)
            }
        }
        return pieces
    }

    /// Appends one word (split when long) or one run of the same punctuation mark starting at
    /// `from`, with the bytes from `prefixStart` (a space) in front; returns where it ended.
    private static func word(_ bytes: [UInt8], from: Int, prefixStart: Int, into pieces: inout [String]) -> Int {
        let first = bytes[from]
        let startsWord = isWordByte(first) || (first == apostrophe && from + 1 < bytes.count && isWordByte(bytes[from + 1]))
        guard startsWord else {
            let end = end(of: bytes, from: from) { $0 == first }
            pieces.append(string(bytes[prefixStart..<end]))
            return end
        }
        let end = end(of: bytes, from: from + 1, while: isWordByte)
        split(bytes[prefixStart..<end], letters: from..<end, into: &pieces)
        return end
    }

    private static func end(of bytes: [UInt8], from: Int, while keep: (UInt8) -> Bool) -> Int {
        var index = from
        while index < bytes.count && keep(bytes[index]) { index += 1 }
        return index
    }

    /// Letters, digits, `_`, and any non-ASCII byte (so a multi-byte character is never cut).
    private static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), 0x80...:
            return true
        default:
            return false
        }
    }

    /// Splits long or rarer-looking ASCII words the same way every time, as a fixed vocabulary would.
    private static func split(_ word: ArraySlice<UInt8>, letters: Range<Int>, into pieces: inout [String]) {
        let length = letters.count
        let hash = fnv1a(word)
        guard length >= 11 || (length >= 8 && hash % 5 == 0), word.allSatisfy({ $0 < 0x80 }) else {
            pieces.append(string(word))
            return
        }
        let cut = letters.lowerBound + max(3, length / 2 - 1 + Int((hash >> 8) % 3))
        pieces.append(string(word[..<cut]))
        if letters.upperBound - cut >= 11 {
            split(word[cut...], letters: cut..<letters.upperBound, into: &pieces)
        } else {
            pieces.append(string(word[cut...]))
        }
    }

    private static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// FNV-1a: a fixed hash (Swift's `Hasher` is seeded per process, so it cannot be used here).
    static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
