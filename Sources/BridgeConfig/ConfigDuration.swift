import Foundation

/// Duration text as the configuration writes it: `500ms`, `2s`, `10m`, `1h`, `1m30s`, `1.5s`.
///
/// A bare number is refused (except `0`) because `timeout: 30` silently meaning seconds, or
/// milliseconds, is the classic configuration bug; the unit is always written.
enum ConfigDuration {
    /// Longest suffix first, so `ms` is not read as `m` followed by garbage.
    private static let units: [(suffix: String, nanoseconds: Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000),
        ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
    ]

    static func parse(_ raw: String) throws -> Duration {
        let text = raw.trimmingCharacters(in: .whitespaces)
        if text.isEmpty { throw ConfigValueError("needs a duration such as 15s or 500ms") }
        if text == "0" { return .zero }
        if text.hasPrefix("-") { throw ConfigValueError("'\(raw)' is negative; durations are 0 or more") }
        if Double(text) != nil {
            throw ConfigValueError("'\(raw)' has no unit; write \(text)s for seconds (or ms, m, h)")
        }
        var total: Int64 = 0
        var rest = Substring(text)
        while !rest.isEmpty {
            let number = rest.prefix(while: isNumberCharacter)
            rest = rest.dropFirst(number.count)
            let suffix = rest.prefix { !isNumberCharacter($0) }
            rest = rest.dropFirst(suffix.count)
            guard let unit = units.first(where: { $0.suffix == suffix }),
                let part = try nanoseconds(String(number), unit: unit.nanoseconds, raw: raw)
            else { throw invalid(raw) }
            let (sum, overflow) = total.addingReportingOverflow(part)
            if overflow { throw ConfigValueError("'\(raw)' is too long a duration") }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// The shortest exact spelling (`1m30s`, `1s500ms`), which `parse` reads back to the same value.
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow || seconds < 0 || attoseconds < 0 { return "\(seconds)s" }
        var remaining = scaled + attoseconds / 1_000_000_000
        if remaining == 0 { return "0s" }
        var text = ""
        for (suffix, size) in formattingUnits {
            let count = remaining / size
            if count > 0 { text += "\(count)\(suffix)" }
            remaining %= size
        }
        return text
    }

    private static let formattingUnits: [(suffix: String, nanoseconds: Int64)] = [
        ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000),
        ("ns", 1),
    ]

    private static func isNumberCharacter(_ character: Character) -> Bool {
        character == "." || ("0"..."9").contains(character)
    }

    /// `1.5` of a unit, in nanoseconds; nil when the number is malformed, throws when it is too big.
    private static func nanoseconds(_ number: String, unit: Int64, raw: String) throws -> Int64? {
        // The scanner only lets digits and dots through, so pieces are digit strings.
        let pieces = number.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count <= 2, !pieces[0].isEmpty, pieces.last?.isEmpty == false else { return nil }
        let tooLong = ConfigValueError("'\(raw)' is too long a duration")
        guard let whole = Int64(pieces[0]) else { throw tooLong }
        let (wholePart, overflow) = whole.multipliedReportingOverflow(by: unit)
        guard !overflow else { throw tooLong }
        guard pieces.count == 2, let fraction = Double("0." + pieces[1]) else { return wholePart }
        let (sum, sumOverflow) = wholePart.addingReportingOverflow(Int64((fraction * Double(unit)).rounded()))
        guard !sumOverflow else { throw tooLong }
        return sum
    }

    private static func invalid(_ raw: String) -> ConfigValueError {
        ConfigValueError("'\(raw)' is not a duration; write it like 500ms, 15s, 10m, 1h or 1m30s")
    }
}
