import BridgeCore
import OpenAIWire

/// Feeds `pieces` to a fresh ChatStreamDecoder, as a transfer's reads would. The messages are
/// those a separate SSEDecoder dispatches for the same pieces, as many as the stream decoder read.
func decodeStream(
    _ pieces: [[UInt8]], configuration: SSEDecoder.Configuration = SSEDecoder.Configuration()
) -> DecodeRun {
    var decoder = ChatStreamDecoder(sse: SSEDecoder(configuration: configuration))
    var messageDecoder = SSEDecoder(configuration: configuration)
    var run = DecodeRun()
    var messages: [SSEMessage] = []
    do throws(StreamFailure) {
        for piece in pieces {
            messages += (try? messageDecoder.feed(piece)) ?? []
            try piece.withUnsafeBytes { bytes in
                Result { () throws(StreamFailure) in try decoder.feed(bytes, into: &run.outputs) }
            }.get()
        }
        messages += messageDecoder.finish()
        decoder.finish(into: &run.outputs)
    } catch {
        run.failure = error
    }
    run.messages = Array(messages.prefix(decoder.messageCount))
    run.isDone = decoder.chunks.isDone
    run.model = decoder.chunks.model
    run.commentCount = decoder.sse.commentCount
    return run
}

/// `bytes` cut at the given offsets (ascending, inside the bounds).
func split(_ bytes: [UInt8], at cuts: [Int]) -> [[UInt8]] {
    var pieces: [[UInt8]] = []
    var start = 0
    for cut in cuts + [bytes.count] {
        pieces.append(Array(bytes[start..<cut]))
        start = cut
    }
    return pieces
}

/// Random cut offsets for `count` bytes, with piece sizes from 1 byte to about 64.
func randomCuts(count: Int, using generator: inout SplitMix64) -> [Int] {
    var cuts: [Int] = []
    var position = 0
    while true {
        // Mostly small pieces, sometimes large ones, to mix both kinds of boundaries.
        let size = generator.next() % 4 == 0 ? Int(generator.next() % 64) + 1 : Int(generator.next() % 7) + 1
        position += size
        guard position < count else { return cuts }
        cuts.append(position)
    }
}

/// A seeded generator, so a failing random chunking can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// Parses encoder output back, failing the test on invalid JSON.
func parseObject(_ bytes: [UInt8]) throws -> JSONObject {
    let value = try JSONParser.parse(bytes)
    guard let object = value.objectValue else { throw NotAnObject() }
    return object
}

struct NotAnObject: Error {}
