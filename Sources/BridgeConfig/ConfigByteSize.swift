import Foundation

/// Byte counts: a plain integer, or a number with a unit (`512KiB`, `1MiB`, `16KB`, `2GB`).
///
/// `KB`/`MB`/`GB` are decimal and `KiB`/`MiB`/`GiB` binary, as their names say; a bare `K` or `M`
/// is refused because people disagree on what it means.
enum ConfigByteSize {
    private static let units: [String: Int] = [
        "b": 1, "kb": 1_000, "kib": 1 << 10, "mb": 1_000_000, "mib": 1 << 20, "gb": 1_000_000_000, "gib": 1 << 30,
    ]

    static func parse(_ raw: String) throws -> Int {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let digits = text.prefix { ("0"..."9").contains($0) }
        let unitText = text.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        guard !digits.isEmpty, let count = Int(digits), let unit = unitText.isEmpty ? 1 : units[unitText] else {
            throw ConfigValueError("'\(raw)' is not a size; write bytes (1048576) or 1MiB, 512KiB, 16KB")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: unit)
        if overflow { throw ConfigValueError("'\(raw)' is too large") }
        return bytes
    }

    /// Plain bytes: exact, and what every reader of the output understands.
    static func format(_ bytes: Int) -> String {
        String(bytes)
    }
}
