/// A strict RFC 8259 parser into `JSONValue`.
///
/// Hand-written because it runs once per model chunk on the hot path: it works on UTF-8 bytes with
/// no Foundation bridging and reports the byte offset of the first error.
public struct JSONParser {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    /// Nesting deeper than this is refused so hostile input cannot exhaust the stack.
    public static let maximumDepth = 256

    public static func parse(_ text: String) throws(Failure) -> JSONValue {
        var text = text
        // withUTF8 is not typed-throws: carry the outcome out as a Result.
        return try text.withUTF8 { buffer in
            Result { () throws(Failure) -> JSONValue in try parse(UnsafeRawBufferPointer(buffer)) }
        }.get()
    }

    public static func parse(_ bytes: some Collection<UInt8>) throws(Failure) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBytes { buffer in
            Result { () throws(Failure) -> JSONValue in try parse(buffer) }
        }.get()
    }

    public static func parse(_ buffer: UnsafeRawBufferPointer) throws(Failure) -> JSONValue {
        var parser = JSONParser(buffer: buffer)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == buffer.count else { throw parser.failure("unexpected data after the value") }
        return value
    }

    /// Parses the one value that starts at `index` (after optional whitespace) and moves `index`
    /// past it: for scanners that walk a document themselves and materialise only some values.
    public static func parseValue(in buffer: UnsafeRawBufferPointer, at index: inout Int) throws(Failure) -> JSONValue {
        var parser = JSONParser(buffer: buffer)
        parser.index = index
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        index = parser.index
        return value
    }

    /// Parses the string whose opening quote is at `index` and moves `index` past its closing
    /// one: `parseValue(in:at:)` for a caller that knows a string is there, without the
    /// `JSONValue` around it.
    public static func parseString(in buffer: UnsafeRawBufferPointer, at index: inout Int) throws(Failure) -> String {
        var parser = JSONParser(buffer: buffer)
        parser.index = index
        guard parser.current == UInt8(ascii: "\"") else { throw parser.failure("expected a string") }
        let string = try parser.parseString()
        index = parser.index
        return string
    }

    let buffer: UnsafeRawBufferPointer
    var index = 0

    init(buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
    }

    func failure(_ reason: String) -> Failure { Failure(offset: index, reason: reason) }

    var current: UInt8? { index < buffer.count ? buffer[index] : nil }

    mutating func skipWhitespace() {
        while index < buffer.count {
            switch buffer[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        guard depth < Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth)") }
        guard let byte = current else { throw failure("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected character")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= buffer.count else { throw failure("unexpected end of input") }
        let base = literal.utf8Start
        for offset in 0..<count where buffer[index + offset] != base[offset] {
            throw failure("invalid literal")
        }
        index += count
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
        index += 1
        var entries: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject(entries))
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw failure("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            // A duplicate key keeps the last value, as most parsers do.
            if let existing = entries.firstIndex(where: { $0.key == key }) {
                entries[existing].value = value
            } else {
                entries.append((key, value))
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(JSONObject(entries))
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(elements)
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    private mutating func parseString() throws(Failure) -> String {
        index += 1
        let start = index
        var isASCII = true
        // Fast path: no escapes, copy the bytes straight into a String. ASCII needs no UTF-8
        // validation, which is most of the cost of a short string otherwise.
        while index < buffer.count {
            let byte = buffer[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<index])
                index += 1
                if isASCII { return String(decoding: slice, as: UTF8.self) }
                guard let string = String(validating: slice, as: UTF8.self) else {
                    throw Failure(offset: start, reason: "invalid UTF-8 in string")
                }
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("control character in string") }
            if byte >= 0x80 { isASCII = false }
            index += 1
        }
        var bytes = Array(UnsafeRawBufferPointer(rebasing: buffer[start..<index]))
        while true {
            guard let byte = current else { throw failure("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: bytes, as: UTF8.self) else {
                    throw Failure(offset: start, reason: "invalid UTF-8 in string")
                }
                return string
            case UInt8(ascii: "\\"):
                try appendEscape(to: &bytes)
            case 0..<0x20:
                throw failure("control character in string")
            default:
                bytes.append(byte)
            }
        }
    }

    private mutating func appendEscape(to bytes: inout [UInt8]) throws(Failure) {
        let scalar = try readEscape()
        if scalar.isASCII {
            bytes.append(UInt8(scalar.value))
        } else {
            bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
    }

    /// The character an escape (after its backslash) stands for, surrogate pairs joined.
    mutating func readEscape() throws(Failure) -> Unicode.Scalar {
        guard let escape = current else { throw failure("unterminated escape") }
        index += 1
        switch escape {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard index + 1 < buffer.count, buffer[index] == UInt8(ascii: "\\"), buffer[index + 1] == UInt8(ascii: "u")
                else { throw failure("unpaired surrogate") }
                index += 2
                let low = try parseHex4()
                guard (0xDC00..<0xE000).contains(low) else { throw failure("invalid low surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw failure("unpaired surrogate")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid code point") }
            return unicode
        default:
            throw failure("invalid escape")
        }
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard index + 4 <= buffer.count else { throw failure("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("invalid hex digit")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    mutating func parseNumber() throws(Failure) -> JSONValue {
        let (start, isInteger, _) = try scanNumber()
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .integer(integer) }
        // Past Double's range Swift reads infinity, which JSON cannot carry on: a 1e999 passed
        // through to the model server would have become null.
        guard let double = Double(text), double.isFinite else { throw Failure(offset: start, reason: "number out of range") }
        return .number(double)
    }

    /// Steps over a number's grammar; where it started, whether it is a plain integer, and
    /// whether it has an exponent (the only way a short number leaves Double's range).
    mutating func scanNumber() throws(Failure) -> (start: Int, isInteger: Bool, hasExponent: Bool) {
        let start = index
        var isInteger = true
        var hasExponent = false
        if current == UInt8(ascii: "-") { index += 1 }
        guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            throw failure("expected a digit")
        }
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        if current == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard skipDigits() > 0 else { throw failure("expected a digit after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            hasExponent = true
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() > 0 else { throw failure("expected a digit in the exponent") }
        }
        return (start, isInteger, hasExponent)
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = index
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        return index - start
    }
}
