/// Server-Sent Events framing for what the bridge sends: OpenAI chunks and stream events.
public enum SSEFrame {
    /// The line that ends an OpenAI stream.
    public static let done: [UInt8] = Array("data: [DONE]\n\n".utf8)

    /// `data: <payload>\n\n`, for a payload known to be one line (JSONWriter output always is).
    public static func data(_ payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(payload.count + 8)
        frame.append(contentsOf: "data: ".utf8)
        frame.append(contentsOf: payload)
        frame.append(contentsOf: "\n\n".utf8)
        return frame
    }

    /// A full message: optional `id:` and `event:` lines, then one `data:` line per line of
    /// `data` (CR, LF and CRLF all split), then the blank line.
    public static func message(data: String, event: String? = nil, id: String? = nil) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(data.utf8.count + 32)
        if let id {
            frame.append(contentsOf: "id: ".utf8)
            frame.append(contentsOf: singleLine(id))
            frame.append(UInt8(ascii: "\n"))
        }
        if let event {
            frame.append(contentsOf: "event: ".utf8)
            frame.append(contentsOf: singleLine(event))
            frame.append(UInt8(ascii: "\n"))
        }
        var previous: UInt8 = 0
        frame.append(contentsOf: "data: ".utf8)
        for byte in data.utf8 {
            switch byte {
            case UInt8(ascii: "\r"):
                frame.append(contentsOf: "\ndata: ".utf8)
            case UInt8(ascii: "\n"):
                // The LF of a CRLF pair already ended its line.
                if previous != UInt8(ascii: "\r") { frame.append(contentsOf: "\ndata: ".utf8) }
            default:
                frame.append(byte)
            }
            previous = byte
        }
        frame.append(contentsOf: "\n\n".utf8)
        return frame
    }

    /// A comment line (`: ping\n`), which clients ignore and proxies see as traffic.
    public static func comment(_ text: String = "") -> [UInt8] {
        Array(":".utf8) + singleLine(text) + [UInt8(ascii: "\n")]
    }

    /// A field value cannot span lines: line breaks become spaces.
    private static func singleLine(_ text: String) -> [UInt8] {
        text.utf8.map { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") ? UInt8(ascii: " ") : $0 }
    }
}
