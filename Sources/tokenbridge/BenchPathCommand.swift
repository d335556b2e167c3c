import ArgumentParser
import Bench

/// `tokenbridge bench-path`: the CPU the bridge's own code spends per token, with no sockets.
struct BenchPathCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-path",
        abstract: "Measure the bridge's per-token work in one thread, with no sockets (ns per token).",
        discussion: """
            Answers of the simulated model, as `tokenbridge mock-llm` sends them, are decoded read \
            by read (SSE and chunks), then run through the pipeline (seq, journal) and encoded as \
            the caller's SSE, all on this thread. Each stage reports this thread's CPU time per \
            token, best and median of --rounds. It measures a change to that code to within a few \
            percent where the HTTP bench, on a shared machine, cannot; curl, the server thread and \
            the kernel are not in it.
            """)

    @Option(name: .long, help: "Tokens per answer.")
    var tokens = 100

    @Option(name: .long, help: "Answers per round.")
    var answers = 2000

    @Option(name: .long, help: "Rounds; each stage reports its best and median.")
    var rounds = 7

    @Option(name: .long, help: "Bytes per upstream read.")
    var readSize = 3072

    func validate() throws {
        guard (1...10_000).contains(tokens) else { throw ValidationError("--tokens must be 1-10000") }
        guard answers >= 1 else { throw ValidationError("--answers must be 1 or more") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be 1 or more") }
        guard readSize >= 1 else { throw ValidationError("--read-size must be 1 or more") }
    }

    func run() {
        let options = PathBench.Options(tokens: tokens, answers: answers, rounds: rounds, readSize: readSize)
        print("bench-path: \(answers) answers of \(tokens) tokens per round, \(rounds) rounds, reads of \(readSize) bytes")
        for stage in PathBench.run(options) {
            print("  \(stage.name): best \(Int(stage.best.rounded())) ns/token, median \(Int(stage.median.rounded())) ns/token")
        }
    }
}
