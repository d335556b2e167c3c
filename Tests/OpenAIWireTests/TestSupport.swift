import BridgeCore
import OpenAIWire

/// Feeds `pieces` to a fresh SSEDecoder and ChatChunkDecoder, as a transfer's reads would.
func decodeStream(
    _ pieces: [[UInt8]], configuration: SSEDecoder.Configuration = SSEDecoder.Configuration()
) -> DecodeRun {
    var sse = SSEDecoder(configuration: configuration)
    var chunks = ChatChunkDecoder()
    var run = DecodeRun()
    func consume(_ messages: [SSEMessage]) throws(StreamFailure) {
        for message in messages {
            run.messages.append(message)
            run.outputs += try chunks.decode(message)
        }
    }
    do throws(StreamFailure) {
        for piece in pieces {
            let messages: [SSEMessage]
            do {
                messages = try sse.feed(piece)
            } catch {
                throw StreamFailure(code: .upstreamProtocol, message: error.description)
            }
            try consume(messages)
        }
        try consume(sse.finish())
        run.outputs += chunks.finish()
    } catch {
        run.failure = error
    }
    run.isDone = chunks.isDone
    run.model = chunks.model
    run.commentCount = sse.commentCount
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
