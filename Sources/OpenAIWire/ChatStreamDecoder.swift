import BridgeCore

/// One upstream `chat.completion.chunk` event stream, from body bytes to model outputs: the SSE
/// decoder and the chunk decoder together, each chunk read straight from the SSE decoder's bytes.
public struct ChatStreamDecoder: Sendable {
    public private(set) var sse: SSEDecoder
    public private(set) var chunks: ChatChunkDecoder
    /// The SSE messages read so far, the one that broke the stream included.
    public private(set) var messageCount = 0

    public init(sse: SSEDecoder = SSEDecoder(), chunks: ChatChunkDecoder = ChatChunkDecoder()) {
        self.sse = sse
        self.chunks = chunks
    }

    /// Decodes the next body bytes, appending what they complete to `outputs`. A broken event
    /// stream or chunk throws, after the outputs before it were appended; the stream is over then.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into outputs: inout [LLMOutput]) throws(StreamFailure) {
        // The chunk decoder is moved out while the SSE decoder runs: the closure that uses it
        // cannot reach into `self`, which the SSE decoder's mutation holds.
        var chunks = ChatChunkDecoder()
        swap(&chunks, &self.chunks)
        defer { swap(&chunks, &self.chunks) }
        var failure: StreamFailure?
        var count = 0
        defer { messageCount += count }
        do throws(SSEDecoder.Failure) {
            try sse.feed(bytes) { message in
                count += 1
                do throws(StreamFailure) {
                    try chunks.decode(message, into: &outputs)
                    return true
                } catch {
                    failure = error
                    return false
                }
            }
        } catch {
            throw StreamFailure(code: .upstreamProtocol, message: error.description)
        }
        if let failure { throw failure }
    }

    /// The input ended: a last event without its blank line (when the SSE configuration takes
    /// it) and any text the think-tag splitter held back. A bad last chunk is dropped: the
    /// stream's outcome is decided by what came before it.
    public mutating func finish(into outputs: inout [LLMOutput]) {
        var chunks = ChatChunkDecoder()
        swap(&chunks, &self.chunks)
        defer { swap(&chunks, &self.chunks) }
        sse.finish { message in
            messageCount += 1
            var last: [LLMOutput] = []
            if (try? chunks.decode(message, into: &last)) != nil { outputs += last }
            return true
        }
        outputs += chunks.finish()
    }
}
