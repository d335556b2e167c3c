import Testing

@testable import Bench

/// The channel subscriber's protocol logic, fed bytes as the server would send them (no socket).
@Suite("WebSocket probe")
struct WebSocketProbeTests {
    /// An unmasked server text frame.
    static func frame(_ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        var bytes: [UInt8] = [0x81]
        if payload.count < 126 {
            bytes.append(UInt8(payload.count))
        } else {
            bytes += [126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        return bytes + payload
    }

    static func publication(_ channel: String, seq: Int, type: String = "delta", text: String? = nil, extra: String = "") -> String {
        let done = type == "delta" || type == "start" ? "false" : "true"
        let textField = text.map { #","text":"\#($0)""# } ?? ""
        return #"{"push":{"channel":"\#(channel)","pub":{"data":{"uid":"u","seq":\#(seq),"type":"\#(type)"\#(textField)\#(extra),"done":\#(done)},"offset":\#(seq)}}}"#
    }

    /// What the probe queued, unmasked (the bench masks with a fixed key).
    static func sentTexts(_ probe: WebSocketProbe) -> String {
        var out = ""
        var offset = 0
        let bytes = probe.output
        while offset + 6 <= bytes.count {
            var length = Int(bytes[offset + 1] & 0x7F)
            var header = 2
            if length == 126 {
                length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
                header = 4
            }
            let mask = Array(bytes[(offset + header)..<(offset + header + 4)])
            let start = offset + header + 4
            guard start + length <= bytes.count else { break }
            out += String(decoding: (0..<length).map { bytes[start + $0] ^ mask[$0 & 3] }, as: UTF8.self) + "\n"
            offset = start + length
        }
        return out
    }

    private func connectedProbe() -> WebSocketProbe {
        let probe = WebSocketProbe(fd: -1, channel: nil)
        probe.input = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n".utf8)
        probe.input += Self.frame(#"{"id":1,"connect":{"client":"c","version":"0"}}"#)
        probe.process(now: 1) { _ in }
        return probe
    }

    @Test func connectsIdleThenSubscribesWhenTold() {
        let probe = connectedProbe()
        #expect(probe.phase == .idle)
        #expect(probe.takeEvents().count == 1)
        probe.output = []
        probe.subscribe(to: "stream_a", at: 2)
        #expect(Self.sentTexts(probe).contains(#"{"id":2,"subscribe":{"channel":"stream_a"}}"#))
        probe.input = Self.frame(#"{"id":2,"subscribe":{}}"#)
        probe.process(now: 3) { _ in }
        #expect(probe.phase == .ready && probe.observing)
    }

    @Test func checksEveryPublicationAndIgnoresOtherChannels() {
        let probe = connectedProbe()
        probe.subscribe(to: "stream_a", at: 2)
        probe.input = Self.frame(#"{"id":2,"subscribe":{}}"#)
        var lines = [Self.publication("stream_a", seq: 1, type: "start")]
        lines += [2, 3, 3, 5].map { Self.publication("stream_a", seq: $0, text: "<\(90 + $0)>") }  // 3 twice, 4 missing
        lines.append(Self.publication("stream_b", seq: 4, text: "<94>"))  // another channel's
        lines.append(Self.publication("stream_a", seq: 6, type: "done"))
        // Replies and pushes come batched, newline-separated, in one frame.
        probe.input += Self.frame(lines.joined(separator: "\n"))
        var stamps: [UInt64] = []
        probe.process(now: 1000) { stamps.append($0) }
        #expect(stamps == [92, 93, 93, 95])
        #expect(probe.finished && !probe.observing)
        let result = probe.observation.result(failure: nil)
        #expect(result.tokens == 3 && result.duplicated == 1 && result.failure == nil)
        #expect(probe.lost == 1 && probe.duplicated == 1)
        let events = probe.takeEvents()
        #expect(events.count == 3)  // connected, subscribed, finished
    }

    @Test func aMergedDeltaCountsEverySeqItCovers() {
        let probe = WebSocketProbe(fd: -1, channel: "stream_m")
        probe.input = Array("HTTP/1.1 101 OK\r\n\r\n".utf8) + Self.frame(#"{"id":1,"connect":{}}"#) + Self.frame(#"{"id":2,"subscribe":{}}"#)
        let merged = Self.publication("stream_m", seq: 5, text: "<1><2><3>", extra: #","seq_from":3,"seq_to":5"#)
        probe.input += Self.frame([Self.publication("stream_m", seq: 1, type: "start"), Self.publication("stream_m", seq: 2, text: "<1>"), merged].joined(separator: "\n"))
        var count = 0
        probe.process(now: 10) { _ in count += 1 }
        #expect(probe.observation.tokens == 4 && probe.lost == 0 && count == 4)
    }

    @Test func movingOnLeavesTheOldChannelAndARefusalIsReported() {
        let probe = connectedProbe()
        probe.subscribe(to: "stream_a", at: 2)
        probe.input = Self.frame(#"{"id":2,"subscribe":{}}"#)
        probe.process(now: 3) { _ in }
        _ = probe.takeEvents()
        probe.output = []
        probe.subscribe(to: "stream_b", at: 4)
        let sent = Self.sentTexts(probe)
        #expect(sent.contains(#""unsubscribe":{"channel":"stream_a"}"#) && sent.contains(#""subscribe":{"channel":"stream_b"}"#))
        // The unsubscribe's answer is not the subscribe's; the subscribe's is an error.
        probe.input = Self.frame(#"{"id":3,"unsubscribe":{}}"#) + Self.frame(#"{"id":4,"error":{"code":106,"message":"limit exceeded"}}"#)
        probe.process(now: 5) { _ in }
        guard case .refused(let reason) = probe.takeEvents().first else {
            Issue.record("no refusal")
            return
        }
        #expect(reason.contains("106"))
        #expect(probe.phase == .idle && !probe.observing)
    }

    @Test func aDetachedProbeCountsNothingMore() {
        let probe = connectedProbe()
        probe.subscribe(to: "stream_a", at: 2)
        probe.input = Self.frame(#"{"id":2,"subscribe":{}}"#)
        probe.process(now: 3) { _ in }
        probe.detach(at: 4)
        probe.input = Self.frame(Self.publication("stream_a", seq: 1, type: "done"))
        probe.process(now: 5) { _ in }
        #expect(probe.observation.events == 0 && !probe.finished)
    }
}
