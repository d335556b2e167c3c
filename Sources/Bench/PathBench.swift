import BridgeCore
import Glibc
import Logging
import OpenAIWire
import SimulatedModel
import Synchronization

/// `tokenbridge bench-path`: the bridge's own work on each token, with no socket, no curl and no
/// server thread: the upstream stream's SSE and chunk decoding, the pipeline's run (seq, the
/// journal) and the caller's SSE encoding, all on this thread over answers made beforehand.
///
/// The HTTP bench on this 2-core machine cannot tell a 3% change from its noise: the load
/// generator and the mock share the cores and their speed drifts 10-20% within minutes. One
/// thread's CPU time over the same bytes can, for the part of the bridge these stages are (about
/// 40% of its CPU at 100 streams; curl, lws and the kernel are the rest).
public enum PathBench {
    public struct Options: Sendable {
        /// Tokens in each answer.
        public var tokens: Int
        /// Answers per round.
        public var answers: Int
        /// Rounds; each stage reports its best and its median round.
        public var rounds: Int
        /// Bytes per upstream read (curl hands the bridge up to 16 KiB at a time; at 100 busy
        /// streams a read held about 14 chunks, some 3 KiB).
        public var readSize: Int

        public init(tokens: Int = 100, answers: Int = 2000, rounds: Int = 7, readSize: Int = 3072) {
            self.tokens = tokens
            self.answers = answers
            self.rounds = rounds
            self.readSize = readSize
        }
    }

    /// One stage: CPU nanoseconds per token, over every round.
    public struct Stage: Sendable {
        public let name: String
        public let nanosecondsPerToken: [Double]

        public var best: Double { nanosecondsPerToken.min() ?? 0 }
        public var median: Double {
            let sorted = nanosecondsPerToken.sorted()
            return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        }
    }

    /// The distinct answers a round cycles through: enough that the text varies as the mock's does.
    static let distinctAnswers = 16

    /// Runs every stage and returns them in order: decoding alone, then decoding with the
    /// pipeline and the SSE encoding (the whole path).
    public static func run(_ options: Options) -> [Stage] {
        let streams = (0..<distinctAnswers).map { upstreamBytes(prompt: "Benchmark prompt \($0)", tokens: options.tokens) }
        let reads = streams.map { split($0, every: options.readSize) }
        let tokensPerRound = Double(options.answers * options.tokens)
        var decoding: [Double] = []
        var whole: [Double] = []
        for _ in 0..<options.rounds {
            decoding.append(Double(cpuTime { decodeOnly(reads, answers: options.answers) }) / tokensPerRound)
            whole.append(Double(cpuTime { throughPipeline(reads, answers: options.answers) }) / tokensPerRound)
        }
        return [
            Stage(name: "decode (SSE and chunks)", nanosecondsPerToken: decoding),
            Stage(name: "decode + pipeline + journal + SSE encode", nanosecondsPerToken: whole),
        ]
    }

    /// What `tokenbridge mock-llm` sends for one answer: the simulated model's text in OpenAI
    /// chunks, the usage chunk the bridge asks for, then `[DONE]`.
    static func upstreamBytes(prompt: String, tokens: Int) -> [UInt8] {
        let model = SimulatedModel(configuration: .init(tokens: tokens, tokensPerSecond: 0))
        let body = JSONObject([
            (key: "model", value: "tokenbridge-simulated"),
            (key: "messages", value: [["role": "user", "content": .string(prompt)]]),
        ])
        let answer = model.plan(for: body, model: "tokenbridge-simulated")
        var encoder = ChatChunkEncoder(uid: "upstream", model: answer.model, includeUsage: true)
        var bytes: [UInt8] = []
        var seq = 1
        func append(_ kind: StreamEvent.Kind) {
            encoder.appendFrames(for: StreamEvent(uid: "upstream", seq: seq, kind: kind), to: &bytes)
            seq += 1
        }
        append(.start(epoch: "e", model: answer.model))
        for output in answer.outputs {
            switch output {
            case .text(let text): append(.delta(text: text))
            case .reasoning(let text): append(.reasoning(text: text))
            default: break
            }
        }
        append(.done(finishReason: answer.finishReason, usage: answer.usage))
        return bytes + SSEFrame.done
    }

    static func split(_ bytes: [UInt8], every size: Int) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: max(1, size)).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
    }

    private static func decodeOnly(_ reads: [[[UInt8]]], answers: Int) {
        var outputs: [LLMOutput] = []
        var produced = 0
        for index in 0..<answers {
            var decoder = ChatStreamDecoder()
            for read in reads[index % reads.count] {
                outputs.removeAll(keepingCapacity: true)
                read.withUnsafeBytes { try? decoder.feed($0, into: &outputs) }
                produced &+= outputs.count
            }
        }
        blackHole(produced)
    }

    /// The SSE bytes the callers would have been sent.
    @discardableResult
    static func throughPipeline(_ reads: [[[UInt8]]], answers: Int) -> Int {
        let client = ReplayClient(reads: reads)
        // A journal budget that a round outgrows, so that every start evicts a finished stream as
        // in a bridge that has run a while (16 MiB holds some 20,000 of these answers).
        let configuration = Pipeline.Configuration(maxConcurrentStreams: 16, retentionMaxBytes: 1 << 20)
        let pipeline = Pipeline(
            client: client, configuration: configuration,
            logger: Logger(label: "tokenbridge.bench-path") { _ in SwiftLogNoOpLogHandler() })
        let sink = SSEEncodingSink()
        for index in 0..<answers {
            let body = JSONObject([
                (key: "model", value: "tokenbridge-simulated"),
                (key: "messages", value: [["role": "user", "content": .string("Benchmark prompt \(index % reads.count)")]]),
                (key: "stream", value: true),
            ])
            guard let request = try? ChatRequest.parse(.object(body)) else { return 0 }
            sink.reset(uid: "bench-\(index)", includeUsage: true)
            _ = try? pipeline.start(request, sinks: [sink])
        }
        return sink.bytesEncoded
    }

    /// This thread's CPU time for `body`, in nanoseconds.
    private static func cpuTime(_ body: () -> Void) -> Int64 {
        func now() -> Int64 {
            var spec = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
            return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
        }
        let start = now()
        body()
        return now() - start
    }

    @inline(never)
    private static func blackHole(_ value: Int) {
        if value == Int.min { print(value) }
    }
}

/// A model client that answers each request at once, on the caller's thread, by decoding the
/// recorded bytes of one answer read by read, as the upstream client does with what curl hands it.
private final class ReplayClient: LLMClient {
    private let reads: [[[UInt8]]]
    private let next = Mutex(0)

    init(reads: [[[UInt8]]]) {
        self.reads = reads
    }

    func start(_ request: UpstreamRequest, receiver: any LLMReceiver) -> any LLMCall {
        let index = next.withLock { value in
            defer { value += 1 }
            return value % reads.count
        }
        var decoder = ChatStreamDecoder()
        var outputs: [LLMOutput] = []
        for read in reads[index] {
            outputs.removeAll(keepingCapacity: true)
            read.withUnsafeBytes { try? decoder.feed($0, into: &outputs) }
            if !outputs.isEmpty { receiver.llmDidProduce(contentsOf: outputs) }
        }
        receiver.llmDidFinish(nil)
        return FinishedCall()
    }

    func probe() async -> String? { nil }

    func models() async -> Result<[String], StreamFailure> { .success(["tokenbridge-simulated"]) }
}

private struct FinishedCall: LLMCall {
    func cancel() {}
}

/// The HTTP caller's sink without the socket: each run of events encoded as `SSEChatSink` does
/// (one buffer per run), then dropped.
private final class SSEEncodingSink: EventSink {
    let name = "bench-sse"
    private let state = Mutex((encoder: ChatChunkEncoder(uid: "", model: ""), bytes: 0))

    func reset(uid: String, includeUsage: Bool) {
        state.withLock { $0.encoder = ChatChunkEncoder(uid: uid, model: "tokenbridge-simulated", includeUsage: includeUsage) }
    }

    var bytesEncoded: Int { state.withLock { $0.bytes } }

    func deliver(_ event: StreamEvent) {
        deliver(contentsOf: [event])
    }

    func deliver(contentsOf events: [StreamEvent]) {
        var bytes: [UInt8] = []
        state.withLock { state in
            state.encoder.appendFrames(for: events, to: &bytes)
            if events.contains(where: \.isTerminal) { bytes += SSEFrame.done }
            state.bytes &+= bytes.count
        }
    }
}
