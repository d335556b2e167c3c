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
    mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Head? {
        guard !isComplete else { return nil }
        let line = Self.trimmed(String(decoding: bytes, as: UTF8.self))
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
        if line.hasPrefix("HTTP/") {
            // "HTTP/1.1 200 OK" or "HTTP/2 200": the code is the second field.
            let fields = line.split(separator: " ", maxSplits: 2)
            status = fields.count > 1 ? Int(fields[1]) : nil
            headers = []
        } else if let first = line.first, first == " " || first == "\t", !headers.isEmpty {
            // Obsolete line folding: the line continues the previous header's value.
            headers[headers.count - 1].value += " " + Self.trimmed(line)
        } else if let colon = line.firstIndex(of: ":") {
            let name = Self.trimmed(String(line[..<colon]))
            let value = Self.trimmed(String(line[line.index(after: colon)...]))
            headers.append((name: name, value: value))
        }
        return nil
    }

    /// Completes the head with what arrived so far, for the rare response whose body starts without
    /// a blank line having been seen (HTTP/0.9-style); `status` then comes from CURLINFO_RESPONSE_CODE.
    mutating func forceComplete(status fallback: Int) -> Head {
        isComplete = true
        return (status ?? fallback, headers)
    }

    private static func trimmed(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        while let last = scalars.last, last == "\r" || last == "\n" || last == " " || last == "\t" {
            scalars.removeLast()
        }
        while let first = scalars.first, first == " " || first == "\t" {
            scalars.removeFirst()
        }
        return String(scalars)
    }
}
