extension JSONParser {
    /// Steps over the one value that starts at `index` (after optional whitespace) and moves
    /// `index` past it, checking it exactly as strictly as `parse` does but building no strings,
    /// arrays or objects: for scanners that read a few members of a document and must still
    /// refuse whatever the parser refuses.
    ///
    /// - Parameter depth: how deep in its document the value stands (the root is 0, a member of
    ///   the root 1), so the nesting limit counts from the document's root as `parse`'s does.
    public static func skipValue(in buffer: UnsafeRawBufferPointer, at index: inout Int, depth: Int = 0) throws(Failure) {
        var parser = JSONParser(buffer: buffer)
        parser.index = index
        parser.skipWhitespace()
        try parser.skipValue(depth: depth)
        index = parser.index
    }

    private mutating func skipValue(depth: Int) throws(Failure) {
        guard depth < Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth)") }
        guard let byte = current else { throw failure("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): try skipMembers(depth: depth)
        case UInt8(ascii: "["): try skipElements(depth: depth)
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw failure("unexpected character")
        }
    }

    /// Without an exponent, a number of up to 300 characters is finite by its length alone
    /// (Double reaches 1.8e308), so the logprobs a chunk may carry are only scanned; anything
    /// else is read to see whether it stays finite, as the parser would.
    private mutating func skipNumber() throws(Failure) {
        let (start, _, hasExponent) = try scanNumber()
        if !hasExponent, index - start <= 300 { return }
        index = start
        _ = try parseNumber()
    }

    private mutating func skipMembers(depth: Int) throws(Failure) {
        index += 1
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            try skipString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw failure("expected ':'") }
            index += 1
            skipWhitespace()
            try skipValue(depth: depth + 1)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    private mutating func skipElements(depth: Int) throws(Failure) {
        index += 1
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            try skipValue(depth: depth + 1)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    /// A string's escapes and UTF-8 checked in place. Escapes are ASCII and always stand for
    /// whole characters, so the raw bytes are valid UTF-8 exactly when the decoded string is.
    private mutating func skipString() throws(Failure) {
        index += 1
        let start = index
        var isASCII = true
        while let byte = current {
            switch byte {
            case UInt8(ascii: "\""):
                if !isASCII, String(validating: UnsafeRawBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self) == nil {
                    throw Failure(offset: start, reason: "invalid UTF-8 in string")
                }
                index += 1
                return
            case UInt8(ascii: "\\"):
                index += 1
                _ = try readEscape()
            case 0..<0x20:
                throw failure("control character in string")
            default:
                if byte >= 0x80 { isASCII = false }
                index += 1
            }
        }
        throw failure("unterminated string")
    }
}
