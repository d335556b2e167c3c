/// Reads the stamps the simulated model puts in place of each text token (`mock.stamp`): the
/// token's text is `<send time in uptime nanoseconds>`, and a merged delta's text is several of
/// them in a row, `<t1><t2>…`.
enum TokenStamps {
    /// Where a stream event's text starts in its JSON (the channel's and the queue's `json` format).
    static let textMarker = Array(#""text":""#.utf8)

    /// Calls `body` with each stamp of the run that starts at `start` (right after the opening
    /// quote of the text, or at the start of a raw text body); returns how many there were.
    @discardableResult
    static func scan(_ bytes: [UInt8], from start: Int, _ body: (UInt64) -> Void) -> Int {
        var index = start
        var count = 0
        while index < bytes.count, bytes[index] == UInt8(ascii: "<") {
            index += 1
            var value: UInt64 = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                value = value &* 10 &+ UInt64(bytes[index] - 48)
                index += 1
                digits += 1
            }
            guard digits > 0, index < bytes.count, bytes[index] == UInt8(ascii: ">") else { break }
            index += 1
            count += 1
            body(value)
        }
        return count
    }

    /// The stamps of a JSON stream event's `text` (none when it has no text or no stamps).
    @discardableResult
    static func scanEvent(_ bytes: [UInt8], _ body: (UInt64) -> Void) -> Int {
        guard let at = ByteScan.find(textMarker, in: bytes, from: 0) else { return 0 }
        return scan(bytes, from: at + textMarker.count, body)
    }
}
