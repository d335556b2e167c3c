/// A value in an AMQP field table (message headers, queue and consumer arguments).
///
/// Integers of every width arrive as `.integer`; they are sent back as 64-bit signed values, which
/// every broker and client accepts where a smaller width was used.
public enum AMQPFieldValue: Sendable, Equatable {
    case boolean(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case timestamp(UInt64)
    case decimal(decimals: UInt8, value: UInt32)
    case table(AMQPTable)
    case array([AMQPFieldValue])
    case void

    /// The text of a string value (also of a byte value that is valid UTF-8).
    public var stringValue: String? {
        switch self {
        case .string(let text): return text
        case .bytes(let bytes): return String(validating: bytes, as: UTF8.self)
        default: return nil
        }
    }

    public var integerValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .unsigned(let value): return Int64(exactly: value)
        case .timestamp(let value): return Int64(exactly: value)
        default: return nil
        }
    }
}

/// An AMQP field table: named values in the order they were given or received.
public struct AMQPTable: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: AMQPFieldValue

        public init(key: String, value: AMQPFieldValue) {
            self.key = key
            self.value = value
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) {
        self.entries = entries
    }

    public init(dictionaryLiteral elements: (String, AMQPFieldValue)...) {
        entries = elements.map { Entry(key: $0.0, value: $0.1) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The first value under `key`; setting replaces it in place, or appends a new entry.
    public subscript(key: String) -> AMQPFieldValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            let position = entries.firstIndex { $0.key == key }
            switch (position, newValue) {
            case (let position?, let value?): entries[position].value = value
            case (let position?, nil): entries.remove(at: position)
            case (nil, let value?): entries.append(Entry(key: key, value: value))
            case (nil, nil): break
            }
        }
    }
}
