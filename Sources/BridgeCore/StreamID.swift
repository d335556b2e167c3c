/// Stream ids (`uid`): chosen by the client or generated.
public enum StreamID {
    public static let maximumLength = 128

    /// 1-128 characters of `[A-Za-z0-9_.:-]`: safe in a channel name, a queue name and a URL path.
    public static func isValid(_ uid: String) -> Bool {
        guard !uid.isEmpty, uid.utf8.count <= maximumLength else { return false }
        return uid.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: ":"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A new random UUIDv4 in lower case.
    ///
    /// Built from two `getrandom` words: Foundation's `UUID()` opens /dev/urandom on every call,
    /// which showed up as a system call per stream in a profile.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000  // version 4
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC 4122 variant
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, word) in [high, low].enumerated() {
            for nibble in (0..<16).reversed() {
                let position = index * 16 + (15 - nibble)
                if position == 8 || position == 12 || position == 16 || position == 20 { text.append(UInt8(ascii: "-")) }
                text.append(hexDigits[Int((word >> (UInt64(nibble) * 4)) & 0xF)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let epochAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// A short random run id: 8 base-62 characters (about 47 bits), enough to tell runs of one uid
    /// apart; one random draw, not one per character.
    public static func generateEpoch() -> String {
        var generator = SystemRandomNumberGenerator()
        var value = generator.next(upperBound: UInt64(218_340_105_584_896))  // 62^8
        var characters = [UInt8](repeating: 0, count: 8)
        for index in 0..<8 {
            characters[index] = epochAlphabet[Int(value % 62)]
            value /= 62
        }
        return String(decoding: characters, as: UTF8.self)
    }
}
