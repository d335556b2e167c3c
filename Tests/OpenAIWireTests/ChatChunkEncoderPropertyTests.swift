import BridgeCore
import Foundation
import OpenAIWire
import Testing

/// What the bridge writes, for any text a model can produce: every SSE frame is one `data:` line
/// (no raw CR or LF inside, whatever the text holds), a strict parser (Foundation's) reads the
/// text back exactly, and the per-token fast path writes the same bytes as the full encoder.
@Suite("Chunk encoding of arbitrary text")
struct ChatChunkEncoderPropertyTests {
    private static let scalars: [Unicode.Scalar] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "\u{85}", "\u{2028}",
        "\u{2029}", "\u{FEFF}", "é", "\u{301}", "😀", "\u{10FFFF}", "<", ">", "&", "\u{FFFD}",
    ]

    static func text(using generator: inout SplitMix64) -> String {
        var text = String.UnicodeScalarView()
        for _ in 0..<Int(generator.next() % 12) { text.append(scalars[Int(generator.next() % UInt64(scalars.count))]) }
        return String(text)
    }

    /// The payloads of `frames`, checking each frame is `data: <one line>` and a blank line.
    static func payloads(of frames: [UInt8]) -> [[UInt8]]? {
        var out: [[UInt8]] = []
        var rest = frames[...]
        let prefix = Array("data: ".utf8)
        while !rest.isEmpty {
            guard rest.starts(with: prefix), let end = rest.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            let payload = Array(rest[(rest.startIndex + prefix.count)..<end])
            guard !payload.contains(UInt8(ascii: "\r")), rest.dropFirst(end - rest.startIndex + 1).first == UInt8(ascii: "\n") else { return nil }
            out.append(payload)
            rest = rest.dropFirst(end - rest.startIndex + 2)
        }
        return out
    }

    /// Foundation's parser says whether it is JSON at all; the strings are read with the bridge's
    /// parser, because Foundation's on Linux drops a U+FEFF at the start of a string or after an
    /// escape (checked: `"\\t\u{FEFF}x"` reads as tab, x), which Python's json and the RFC keep.
    static func strictlyParsed(_ payload: [UInt8]) -> JSONObject? {
        guard (try? JSONSerialization.jsonObject(with: Data(payload))) != nil else { return nil }
        return (try? JSONParser.parse(payload))?.objectValue
    }

    @Test func anyTextIsFramedAsOneLineAndReadBackExactly() throws {
        var generator = SplitMix64(seed: 0xE4C0DE)
        for attempt in 0..<400 {
            let model = Self.text(using: &generator)
            var encoder = ChatChunkEncoder(uid: "u-\(attempt)", includeUsage: true, created: 1)
            var reference = ChatChunkEncoder(uid: "u-\(attempt)", includeUsage: true, created: 1)
            for seq in 1...6 {
                let text = Self.text(using: &generator)
                let kind: StreamEvent.Kind
                switch seq {
                case 1: kind = .start(epoch: "E", model: model)
                case 2, 4: kind = .delta(text: text)
                case 3: kind = .reasoning(text: text)
                case 5: kind = .toolCall(ToolCallDelta(index: 0, id: text, name: text, arguments: text))
                default: kind = .done(finishReason: text.isEmpty ? "stop" : text, usage: nil)
                }
                let event = StreamEvent(uid: "u-\(attempt)", seq: seq, kind: kind)
                let frames = encoder.frames(for: event)
                let expected = reference.encode(event).flatMap { SSEFrame.data($0) }
                #expect(frames == expected, "attempt \(attempt) seq \(seq): the fast path differs")
                let payloads = try #require(Self.payloads(of: frames), "attempt \(attempt) seq \(seq): \(frames.text.debugDescription)")
                for payload in payloads {
                    let chunk = try #require(Self.strictlyParsed(payload), "not JSON to Foundation: \(payload.text.debugDescription)")
                    let delta = chunk["choices"]?.arrayValue?.first?["delta"]
                    switch kind {
                    case .delta: #expect(delta?["content"]?.stringValue == text, "\(text.debugDescription)")
                    case .reasoning: #expect(delta?["reasoning_content"]?.stringValue == text, "\(text.debugDescription)")
                    case .toolCall:
                        #expect(delta?["tool_calls"]?.arrayValue?.first?["function"]?["arguments"]?.stringValue == text)
                    default: break
                    }
                    if !model.isEmpty { #expect(chunk["model"]?.stringValue == model, "\(model.debugDescription)") }
                }
            }
        }
    }

    @Test func anyTextSurvivesTheEventSchema() throws {
        var generator = SplitMix64(seed: 0x5C4E)
        for _ in 0..<1000 {
            let text = Self.text(using: &generator)
            let event = StreamEvent(uid: "u", seq: 2, kind: .delta(text: text))
            let bytes = event.jsonBytes()
            #expect(!bytes.contains(UInt8(ascii: "\n")) && !bytes.contains(UInt8(ascii: "\r")))
            let parsed = try #require(Self.strictlyParsed(bytes), "\(bytes.text.debugDescription)")
            #expect(parsed["text"]?.stringValue == text, "\(text.debugDescription)")
        }
    }
}
