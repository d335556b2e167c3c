/// Assembles the final response head from the header lines libcurl hands over one at a time.
///
/// libcurl passes every head it sees: 1xx interim heads (100 Continue, 103 Early Hints) and, after
/// the body, chunked trailers. Delegates are promised only the final head, once, so the interim heads
/// are dropped and everything after the final head is ignored.
struct ResponseHeadParser {
    typealias Head = (status: Int, headers: [(name: String, value: String)])

    private(set) var isComplete = false
    private var status: Int?
    private var headers: [(name: String, value: String)] = []

    /// Feeds one header line (libcurl always passes a whole line, CRLF included). Returns the head
    /// when this line (the blank one) completed the final, non-1xx head.
    ///
    /// Read as bytes, and each name and value made into a string once: it runs for every header of
    /// every upstream response, and reading it through `String` and its characters cost 4.5% of
    /// the bridge's CPU on one-token answers.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Head? {
        guard !isComplete else { return nil }
        let continuesPrevious = !headers.isEmpty && bytes.first.map(Self.isBlank) == true
        let line = Self.trimmed(bytes)
        if line.isEmpty {
            guard let status else { return nil }
            if (100..<200).contains(status) {
                self.status = nil
                headers = []
                return nil
            }
            isComplete = true
            return (status, headers)
        }
        if continuesPrevious {
            // Obsolete line folding: the line continues the previous header's value.
            headers[headers.count - 1].value += " " + String(decoding: line, as: UTF8.self)
        } else if line.starts(with: "HTTP/".utf8) {
            status = Self.statusCode(in: line)
            headers = []
        } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            let name = Self.trimmed(UnsafeRawBufferPointer(rebasing: line[..<colon]))
            let value = Self.trimmed(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
            headers.append((name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self)))
        }
        return nil
    }

    /// Completes the head with what arrived so far, for the rare response whose body starts without
    /// a blank line having been seen (HTTP/0.9-style); `status` then comes from CURLINFO_RESPONSE_CODE.
    mutating func forceComplete(status fallback: Int) -> Head {
        isComplete = true
        return (status ?? fallback, headers)
    }

    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")

    private static func isBlank(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    /// Without the line end and the spaces and tabs around it.
    private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while end > start, isBlank(bytes[end - 1]) || bytes[end - 1] == UInt8(ascii: "\r") || bytes[end - 1] == UInt8(ascii: "\n") {
            end -= 1
        }
        while start < end, isBlank(bytes[start]) { start += 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// The code of a status line: "HTTP/1.1 200 OK" or "HTTP/2 200", its second field; nil when
    /// that is not a number.
    private static func statusCode(in line: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        while index < line.count, line[index] != space { index += 1 }
        while index < line.count, line[index] == space { index += 1 }
        var code = 0
        var digits = 0
        while index < line.count, line[index] != space {
            let digit = line[index] &- UInt8(ascii: "0")
            guard digit < 10, digits < 9 else { return nil }
            code = code * 10 + Int(digit)
            digits += 1
            index += 1
        }
        return digits > 0 ? code : nil
    }
}
