import Testing

@testable import BridgeCore

@Suite("Stream event JSON")
struct StreamEventTests {
    /// Text and reasoning deltas take a shortcut; it must give the general writer's bytes.
    @Test(arguments: ["", "plain", "quote \" and backslash \\", "line\nbreak\ttab\r", "\u{01}\u{1f}", "héllo 世界 👋", "</script>"])
    func aTextDeltaIsWrittenAsTheGeneralWriterWritesIt(text: String) {
        for (uid, seq) in [("u", 1), ("0f8c1b7e-2a44-4d3e-9a51-0c6b1e3b9f10", 123_456), ("a.b:c-d_e", Int.max)] {
            for kind in [StreamEvent.Kind.delta(text: text), .reasoning(text: text)] {
                var writer = JSONWriter()
                StreamEvent.write(uid: uid, seq: seq, kind: kind, to: &writer)
                #expect(StreamEvent(uid: uid, seq: seq, kind: kind).jsonBytes() == writer.bytes)
            }
        }
    }
}
