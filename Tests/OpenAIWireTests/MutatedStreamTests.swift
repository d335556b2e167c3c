import OpenAIWire
import Testing

/// The recorded streams with seeded damage (bytes flipped, dropped, doubled, or replaced by SSE
/// and JSON syntax): whatever a broken model server sends, decoding must not crash, and what it
/// gives (outputs, failure, the end) must not depend on where the reads fall, exactly as for
/// well-formed streams.
@Suite("Mutated upstream streams")
struct MutatedStreamTests {
    private static let syntax: [[UInt8]] = [
        "\n", "\r", "\r\n", "\n\n", ":", "data:", "data: ", "event: error\n", "id: 9\n", "retry: x\n", "{", "}", "[", "\"",
        "\\", "\\u00", "[DONE]", "<think>", "</think>", "null", "1e999", ",",
    ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xE2, 0x82], [0x00]]

    /// One seeded change to `wire`.
    static func mutate(_ wire: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        var bytes = wire
        let position = Int(generator.next() % UInt64(bytes.count))
        switch generator.next() % 5 {
        case 0: bytes[position] ^= UInt8(1 << (generator.next() % 8))
        case 1: bytes.removeSubrange(position..<min(bytes.count, position + Int(generator.next() % 16) + 1))
        case 2: bytes.insert(contentsOf: syntax[Int(generator.next() % UInt64(syntax.count))], at: position)
        case 3: bytes.insert(contentsOf: bytes[position..<min(bytes.count, position + 40)], at: position)
        default: bytes.replaceSubrange(position..<bytes.count, with: [])
        }
        return bytes
    }

    /// A failed stream is abandoned where it failed (the transfer is aborted): comment lines read
    /// past that point in the same read are not part of what it gave.
    static func comparable(_ run: DecodeRun) -> DecodeRun {
        var run = run
        if run.failure != nil { run.commentCount = 0 }
        return run
    }

    @Test("decode the same in any chunking, and never crash", arguments: StreamFixture.all)
    func mutatedStreamsDecodeTheSameInAnyChunking(_ fixture: StreamFixture) {
        var generator = SplitMix64(seed: 0x5EED_0000 &+ UInt64(fixture.wire.count))
        for attempt in 0..<50 {
            var wire = fixture.wire
            for _ in 0..<(1 + generator.next() % 3) where !wire.isEmpty { wire = Self.mutate(wire, using: &generator) }
            let whole = Self.comparable(decodeStream([wire]))
            for chunking in 0..<4 {
                let cuts = chunking == 0 ? Array(1..<max(1, wire.count)) : randomCuts(count: wire.count, using: &generator)
                let run = Self.comparable(decodeStream(split(wire, at: cuts)))
                #expect(run == whole, "attempt \(attempt), chunking \(chunking): \(wire.text.debugDescription)")
                if run != whole { return }
            }
        }
    }
}
