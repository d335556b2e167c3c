import Foundation
import Testing

@testable import BridgeCore

/// The parser against seeded random documents and seeded damage to them: what it writes it reads
/// back; it accepts exactly the texts a strict parser (Foundation's) accepts; it never crashes.
@Suite("JSON parser properties")
struct JSONPropertyTests {
    /// A small seeded generator (SplitMix64), so a failing case reruns the same.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var value = state
            value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
            value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
            return value ^ (value >> 31)
        }
    }

    private static let pieces: [String] = ["a", "é", "😀", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{7F}", "\u{2028}", " ", "key", "0"]

    static func randomString(using generator: inout Seeded) -> String {
        (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
    }

    static func randomValue(depth: Int, using generator: inout Seeded) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .integer(Int64.random(in: Int64.min...Int64.max, using: &generator) >> Int64.random(in: 0...63, using: &generator))
        case 3: return .number(Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) / 64)
        case 4: return .string(randomString(using: &generator))
        case 5: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
        default:
            var object = JSONObject()
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                object[randomString(using: &generator)] = randomValue(depth: depth + 1, using: &generator)
            }
            return .object(object)
        }
    }

    /// A whole Double is written as an integer and read back as one: the same number.
    static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .number(let number) where number == number.rounded() && abs(number) < 1e15: return .integer(Int64(number))
        case .array(let items): return .array(items.map(normalized))
        case .object(let object):
            var out = JSONObject()
            for key in object.keys { out[key] = object[key].map(normalized) }
            return .object(out)
        default: return value
        }
    }

    @Test func whatItWritesItReadsBack() throws {
        var generator = Seeded(state: 20_261_201)
        for _ in 0..<1000 {
            let value = Self.randomValue(depth: 0, using: &generator)
            let text = value.jsonString
            #expect(Self.normalized(try JSONParser.parse(text)) == Self.normalized(value), "\(text)")
        }
    }

    private static let damage: [String] = [
        ",", ":", "[", "]", "{", "}", "\"", "\\", "\\u", "\\ud800", "\\udc00", "\\x", "0", "01", "-", "+", ".", "e", "E5",
        "1e999", "tru", "nul", " ", "\u{01}", "\u{00}", "/*", "NaN", "Infinity",
    ]

    /// Does Foundation's strict parser take `bytes` (any JSON value at the top)?
    static func foundationAccepts(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
    }

    @Test func acceptsWhatAStrictParserAcceptsAndNothingElse() {
        var generator = Seeded(state: 0xDA_3A6E)
        var compared = 0
        for attempt in 0..<1500 {
            var bytes = Array(Self.randomValue(depth: 0, using: &generator).jsonString.utf8)
            for _ in 0..<Int.random(in: 1...2, using: &generator) {
                let position = Int.random(in: 0...bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0 where position < bytes.count: bytes.remove(at: position)
                case 1 where position < bytes.count: bytes[position] ^= UInt8(1 << Int.random(in: 0...7, using: &generator))
                default: bytes.insert(contentsOf: Array((Self.damage.randomElement(using: &generator) ?? "").utf8), at: position)
                }
            }
            let ours = (try? JSONParser.parse(bytes)) != nil
            // Foundation's parser stops at a NUL byte as if the text ended there; this one refuses
            // it (a NUL is not JSON outside a string, and not allowed raw inside one).
            let text = String(decoding: bytes, as: UTF8.self)
            if bytes.contains(0) { continue }
            compared += 1
            #expect(ours == Self.foundationAccepts(bytes), "attempt \(attempt): \(text.debugDescription) ours \(ours)")
        }
        #expect(compared > 1000)
    }
}
