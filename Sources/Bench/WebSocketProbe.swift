/// One benchmark WebSocket connection speaking just enough of Centrifugo's protocol: connect,
/// subscribe to a channel (and later to another, one stream after another), answer pings, and
/// check every publication it gets (offsets once each, in order; the stamped send time of each
/// token for latency). Owned by the fleet's thread.
final class WebSocketProbe {
    enum Phase {
        case handshaking
        case connecting
        /// Connected, subscribed to nothing yet.
        case idle
        case subscribing
        case ready
        case closed
    }

    /// What the fleet hears from a probe after feeding it input.
    enum Event {
        case connected
        case subscribed
        case refused(String)
        /// The current stream's terminal event arrived.
        case finished
    }

    let fd: Int32
    private(set) var channel: String?
    var phase = Phase.handshaking
    var input: [UInt8] = []
    var output: [UInt8] = []
    private(set) var events: [Event] = []
    /// The current subscription's stream, from the subscribe on.
    private(set) var observation = StreamObservation(at: 0)
    /// Over every subscription: publications received, and the losses and repeats of those ended.
    private(set) var received = 0
    private var pastGaps = 0
    private var pastDuplicates = 0
    var closeCode: UInt16?

    private var nextCommandID: UInt32 = 1
    private var subscribeID: UInt32?
    /// `{"push":{"channel":"<channel>",`: a push for another channel (one left behind) is not this stream's.
    private var pushPrefix: [UInt8] = []

    init(fd: Int32, channel: String?) {
        self.fd = fd
        self.channel = channel
    }

    var finished: Bool { observation.terminal != nil }
    /// Between a subscribe and the end of that stream (its terminal event, or `detach`).
    private(set) var observing = false
    /// Seqs missing below the highest seen, over every subscription.
    var lost: Int { pastGaps + observation.check.gaps }
    var duplicated: Int { pastDuplicates + observation.check.duplicated }

    func takeEvents() -> [Event] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    // MARK: - Writing

    func queueHandshake(host: String, port: Int, path: String) {
        let request =
            "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        output += Array(request.utf8)
    }

    /// Subscribes to `channel` (leaving the previous one) and starts a new observation; the reply
    /// comes as `.subscribed` or `.refused`.
    func subscribe(to channel: String, at now: UInt64) {
        guard phase == .idle || phase == .ready || phase == .subscribing else {
            events.append(.refused(phase == .closed ? "the connection was closed (\(closeCode ?? 1006))" : "not connected yet"))
            return
        }
        if let previous = self.channel, phase != .idle {
            queueCommand(#""unsubscribe":{"channel":"\#(previous)"}"#)
        }
        endObservation(at: now)
        self.channel = channel
        sendSubscribe()
    }

    /// Stops counting what the current channel sends (it stays subscribed until the next
    /// `subscribe`): the stream was given up, and a late push of it must not start a new count.
    func detach(at now: UInt64) {
        observing = false
        pushPrefix = []
        endObservation(at: now)
    }

    /// Closes the books on the current stream (its gaps and repeats join the totals).
    private func endObservation(at now: UInt64) {
        pastGaps += observation.check.gaps
        pastDuplicates += observation.check.duplicated
        observation = StreamObservation(at: now)
    }

    private func sendSubscribe() {
        guard let channel else { return }
        pushPrefix = Array(#"{"push":{"channel":"\#(channel)","#.utf8)
        subscribeID = queueCommand(#""subscribe":{"channel":"\#(channel)"}"#)
        phase = .subscribing
        observing = true
    }

    @discardableResult
    private func queueCommand(_ body: String) -> UInt32 {
        let id = nextCommandID
        nextCommandID += 1
        queueText(#"{"id":\#(id),\#(body)}"#)
        return id
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
            guard let end = ByteScan.find([13, 10, 13, 10], in: input, from: 0) else { return }
            let head = String(decoding: input[..<end], as: UTF8.self)
            input.removeFirst(end + 4)
            guard head.hasPrefix("HTTP/1.1 101") else {
                phase = .closed
                return
            }
            phase = .connecting
            queueCommand(#""connect":{"name":"bench"}"#)
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

    private static let idMarker = Array(#"{"id":"#.utf8)
    private static let errorMarker = Array(#""error":"#.utf8)
    private static let offsetMarker = Array(#""offset":"#.utf8)
    private static let fromMarker = Array(#""seq_from":"#.utf8)
    private static let deltaMarker = Array(#""type":"delta""#.utf8)
    private static let doneMarker = Array(#""done":true"#.utf8)
    private static let terminalMarkers = [("error", Array(#""type":"error""#.utf8)), ("cancelled", Array(#""type":"cancelled""#.utf8))]

    private func handleLine(_ line: ArraySlice<UInt8>, now: UInt64, onToken: (UInt64) -> Void) {
        if line.count == 2, line.first == UInt8(ascii: "{") {
            queueText("{}")  // a ping: the pong
            return
        }
        if line.starts(with: Self.idMarker) {
            handleReply(Array(line))
            return
        }
        guard !pushPrefix.isEmpty, line.starts(with: pushPrefix) else { return }
        handlePublication(Array(line), now: now, onToken: onToken)
    }

    private func handleReply(_ bytes: [UInt8]) {
        let id = UInt32(clamping: ByteScan.number(in: bytes, at: Self.idMarker.count))
        switch phase {
        case .connecting where id == 1:
            if channel != nil {
                sendSubscribe()
            } else {
                phase = .idle
            }
            events.append(.connected)
        case .subscribing where id == subscribeID:
            if ByteScan.contains(Self.errorMarker, in: bytes) {
                phase = .idle
                observing = false
                events.append(.refused("subscribe refused: \(String(decoding: bytes.prefix(200), as: UTF8.self))"))
            } else {
                phase = .ready
                events.append(.subscribed)
            }
        default:
            break  // an unsubscribe's answer
        }
    }

    private func handlePublication(_ bytes: [UInt8], now: UInt64, onToken: (UInt64) -> Void) {
        guard let offset = ByteScan.number(after: Self.offsetMarker, in: bytes) else { return }
        received += 1
        // A merged publication (a slow reader's) covers seqs from seq_from to its offset.
        let from = ByteScan.number(after: Self.fromMarker, in: bytes) ?? offset
        let terminal =
            ByteScan.contains(Self.doneMarker, in: bytes)
            ? (Self.terminalMarkers.first { ByteScan.contains($0.1, in: bytes) }?.0 ?? "done") : nil
        let wasFinished = finished
        observation.note(
            from: from, to: offset, isDelta: ByteScan.contains(Self.deltaMarker, in: bytes), terminal: terminal, at: now)
        TokenStamps.scanEvent(bytes) { sent in
            if sent > 0, sent <= now { onToken(sent) }
        }
        if !wasFinished, finished {
            observing = false
            events.append(.finished)
        }
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
}
