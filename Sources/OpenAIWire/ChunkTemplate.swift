import BridgeCore
import Glibc

/// The bytes around the one text string of a plain chunk. A model server repeats them on every
/// token of a stream (same id, created, model, fingerprint and shape; only the text changes), so
/// a chunk that starts and ends with exactly these bytes is that chunk with other text, and only
/// its text needs reading.
///
/// Exact bytes make this safe whatever the server sends: anything that differs outside the text
/// (a new field, another shape, a finish reason) misses, and the scanner reads the chunk in full.
///
/// A class, so that the decoder holding one reads it in place: as a struct of five references it
/// was copied and released around every chunk it matched (10% of the decoding path's CPU).
final class ChunkTemplate: Sendable {
    enum Field: Sendable {
        case content, reasoningContent, reasoning
    }

    /// Up to and including the text's opening quote.
    private let prefix: [UInt8]
    /// From just after its closing quote to the end.
    private let suffix: [UInt8]
    /// Where the text goes in the chunk.
    let field: Field
    /// As the scanner read them from these bytes: a match carries them on as reading it would.
    let id: String?
    let model: String?
    let systemFingerprint: String?

    /// The template of `bytes`, which the scanner read as `chunk`; nil unless it is a plain text
    /// chunk: one text string, no finish reason.
    init?(chunk: ContentChunkScanner.Chunk, bytes: UnsafeRawBufferPointer) {
        guard chunk.textValueCount == 1, let text = chunk.textValue, chunk.finishReason == nil else { return nil }
        switch (chunk.content, chunk.reasoningContent, chunk.reasoning) {
        case (.some, nil, nil): field = .content
        case (nil, .some, nil): field = .reasoningContent
        case (nil, nil, .some): field = .reasoning
        default: return nil
        }
        prefix = Array(UnsafeRawBufferPointer(rebasing: bytes[..<(text.lowerBound + 1)]))
        suffix = Array(UnsafeRawBufferPointer(rebasing: bytes[text.upperBound...]))
        id = chunk.id
        model = chunk.model
        systemFingerprint = chunk.systemFingerprint
    }

    /// The text of `bytes`, when they are this template with other text: the chunk the scanner
    /// would read holds it in `field`, beside this template's id, model and fingerprint.
    func text(in bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count >= prefix.count + suffix.count + 1, Self.equal(bytes, from: 0, prefix) else { return nil }
        var index = prefix.count - 1
        // The parser reads the string as the scanner would (escapes, UTF-8 checked); a failure
        // leaves the chunk to the scanner, which then fails the same way.
        guard let text = try? JSONParser.parseString(in: bytes, at: &index),
            bytes.count - index == suffix.count, Self.equal(bytes, from: index, suffix)
        else { return nil }
        return text
    }

    private static func equal(_ bytes: UnsafeRawBufferPointer, from start: Int, _ expected: [UInt8]) -> Bool {
        expected.withUnsafeBytes { wanted in
            guard let base = bytes.baseAddress, let other = wanted.baseAddress else { return expected.isEmpty }
            return memcmp(base + start, other, expected.count) == 0
        }
    }
}
