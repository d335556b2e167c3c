/// The two scans the bench's hand-rolled readers need on raw JSON bytes: decoding every frame into
/// a JSON tree would cost the client more CPU than the bridge spends sending it.
enum ByteScan {
    /// Where `needle` first occurs in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = from
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = true
                for k in 1..<needle.count where haystack[index + k] != needle[k] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }

    /// The decimal digits at `start` as a number (0 when there are none).
    static func number(in bytes: [UInt8], at start: Int) -> UInt64 {
        var value: UInt64 = 0
        var index = start
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
            value = value &* 10 &+ UInt64(bytes[index] - 48)
            index += 1
        }
        return value
    }

    /// The number right after `marker`, if the marker is there.
    static func number(after marker: [UInt8], in bytes: [UInt8]) -> UInt64? {
        find(marker, in: bytes, from: 0).map { number(in: bytes, at: $0 + marker.count) }
    }

    static func contains(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
        find(needle, in: haystack, from: 0) != nil
    }
}
