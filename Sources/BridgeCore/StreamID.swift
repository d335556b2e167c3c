import Foundation

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

    /// A new random UUIDv4 in lower case.
    public static func generate() -> String {
        UUID().uuidString.lowercased()
    }

    private static let epochAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// A short random run id: 8 base-62 characters (about 47 bits), enough to tell runs of one uid apart.
    public static func generateEpoch() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<8).map { _ in epochAlphabet[Int(generator.next(upperBound: UInt(epochAlphabet.count)))] })
    }
}
