import Glibc

/// One benchmark WebSocket connection speaking just enough of Centrifugo's protocol: connect,
/// subscribe to a channel, answer pings, and check every publication it gets (offsets in order,
/// the stamped send time of each token for latency).
final class WebSocketProbe {
    enum Phase {
        case handshaking
        case connecting
        case subscribing
        case ready
        case closed
    }

    let fd: Int32
    let channel: String
    var phase = Phase.handshaking
    var input: [UInt8] = []
    var output: [UInt8] = []
    /// The next offset expected on the channel.
    var nextOffset: UInt64 = 1
    var received = 0
    var lost = 0
    var duplicated = 0
    var finished = false
    var closeCode: UInt16?

    init(fd: Int32, channel: String) {
        self.fd = fd
        self.channel = channel
    }

    // MARK: - Writing

    func queueHandshake(host: String, port: Int, path: String) {
        let request =
            "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        output += Array(request.utf8)
    }

    /// A masked text frame (clients must mask); the mask is fixed, which is allowed for a benchmark.
    func queueText(_ text: String) {
        let payload = Array(text.utf8)
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        output.append(0x81)
        if payload.count < 126 {
            output.append(0x80 | UInt8(payload.count))
        } else {
            output.append(0x80 | 126)
            output.append(UInt8(payload.count >> 8))
            output.append(UInt8(payload.count & 0xFF))
        }
        output += mask
        for (index, byte) in payload.enumerated() { output.append(byte ^ mask[index & 3]) }
    }

    // MARK: - Reading

    /// Consumes what arrived: the handshake answer, then frames. `onToken` gets each stamped
    /// token's send time (uptime nanoseconds).
    func process(now: UInt64, onToken: (UInt64) -> Void) {
        if phase == .handshaking {
            guard let end = Self.find([13, 10, 13, 10], in: input, from: 0) else { return }
            let head = String(decoding: input[..<end], as: UTF8.self)
            input.removeFirst(end + 4)
            guard head.hasPrefix("HTTP/1.1 101") else {
                phase = .closed
                return
            }
            phase = .connecting
            queueText(#"{"id":1,"connect":{"name":"bench"}}"#)
        }
        var offset = 0
        while let (opcode, payload, next) = Self.frame(in: input, at: offset) {
            offset = next
            switch opcode {
            case 0x1, 0x0: handleMessage(payload, now: now, onToken: onToken)
            case 0x8:
                closeCode = payload.count >= 2 ? UInt16(payload[payload.startIndex]) << 8 | UInt16(payload[payload.startIndex + 1]) : 1005
                phase = .closed
            case 0x9: queuePong(Array(payload))
            default: break
            }
        }
        if offset > 0 { input.removeFirst(offset) }
    }

    private func queuePong(_ payload: [UInt8]) {
        output += [0x8A, 0x80 | UInt8(min(payload.count, 125)), 0, 0, 0, 0] + payload.prefix(125)
    }

    private func handleMessage(_ payload: ArraySlice<UInt8>, now: UInt64, onToken: (UInt64) -> Void) {
        var start = payload.startIndex
        while start < payload.endIndex {
            let end = payload[start...].firstIndex(of: UInt8(ascii: "\n")) ?? payload.endIndex
            handleLine(payload[start..<end], now: now, onToken: onToken)
            start = end + 1
        }
    }

    private static let pushMarker = Array(#"{"push""#.utf8)
    private static let offsetMarker = Array(#""offset":"#.utf8)
    private static let stampMarker = Array(#""text":"<"#.utf8)
    private static let doneMarker = Array(#""done":true"#.utf8)
    private static let fromMarker = Array(#""seq_from":"#.utf8)

    private func handleLine(_ line: ArraySlice<UInt8>, now: UInt64, onToken: (UInt64) -> Void) {
        if line.count == 2, line.first == UInt8(ascii: "{") {
            queueText("{}")  // a ping: the pong
            return
        }
        guard line.starts(with: Self.pushMarker) else {
            switch phase {
            case .connecting:
                phase = .subscribing
                queueText(#"{"id":2,"subscribe":{"channel":"\#(channel)"}}"#)
            case .subscribing:
                phase = .ready
            default:
                break
            }
            return
        }
        let bytes = Array(line)
        guard let offsetAt = Self.find(Self.offsetMarker, in: bytes, from: 0) else { return }
        let offset = Self.number(in: bytes, at: offsetAt + Self.offsetMarker.count)
        received += 1
        // A merged publication (a slow reader's) covers seqs from seq_from: not a gap.
        let from = Self.find(Self.fromMarker, in: bytes, from: 0).map { Self.number(in: bytes, at: $0 + Self.fromMarker.count) } ?? offset
        if offset < nextOffset {
            duplicated += 1
        } else {
            if from > nextOffset { lost += Int(from - nextOffset) }
            nextOffset = offset + 1
        }
        var search = 0
        while let stampAt = Self.find(Self.stampMarker, in: bytes, from: search) {
            let sent = Self.number(in: bytes, at: stampAt + Self.stampMarker.count)
            if sent > 0, sent <= now { onToken(sent) }
            search = stampAt + Self.stampMarker.count
        }
        if Self.find(Self.doneMarker, in: bytes, from: 0) != nil { finished = true }
    }

    // MARK: - Scanning

    /// A whole frame at `offset`: opcode, payload and where the next frame starts.
    static func frame(in buffer: [UInt8], at offset: Int) -> (UInt8, ArraySlice<UInt8>, Int)? {
        guard buffer.count - offset >= 2 else { return nil }
        let opcode = buffer[offset] & 0x0F
        var length = Int(buffer[offset + 1] & 0x7F)
        var header = 2
        if length == 126 {
            guard buffer.count - offset >= 4 else { return nil }
            length = Int(buffer[offset + 2]) << 8 | Int(buffer[offset + 3])
            header = 4
        } else if length == 127 {
            guard buffer.count - offset >= 10 else { return nil }
            length = (0..<8).reduce(0) { $0 << 8 | Int(buffer[offset + 2 + $1]) }
            header = 10
        }
        guard buffer.count - offset - header >= length else { return nil }
        let start = offset + header
        return (opcode, buffer[start..<start + length], start + length)
    }

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

    static func number(in bytes: [UInt8], at start: Int) -> UInt64 {
        var value: UInt64 = 0
        var index = start
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
            value = value &* 10 &+ UInt64(bytes[index] - 48)
            index += 1
        }
        return value
    }
}
