import BridgeCore

/// What an AMQP run measured: rates over the measured window, checks over every answer.
public struct AMQPBenchReport: Sendable {
    public var url: String
    public var mode: AMQPBenchOptions.Mode
    public var streams: Int
    public var tokens: Int
    public var measuredSeconds: Double
    public var promptsPerSecond: Double
    /// Answer messages (every event) per second, as a reader consumed them.
    public var messagesPerSecond: Double
    public var tokensPerSecond: Double
    public var promptsCompleted: Int
    public var promptsFailed: Int
    public var unfinished: Int
    public var lostTokens: Int
    public var duplicates: Int
    public var outOfOrder: Int
    /// Prompt published to first delta consumed.
    public var firstToken: Percentiles?
    public var failures: [(String, Int)]
    public var target: ProcessSample?
    public var targetCPUPercent: Double?
    public var benchCPUPercent: Double?
    public var machine: MachineInfo

    init(
        options: AMQPBenchOptions, window: Duration, before: AMQPBenchTally, after: AMQPBenchTally, final: AMQPBenchTally,
        firstToken: HdrHistogram, unfinished: Int, target: ProcessSample?, benchCPU: Duration?, machine: MachineInfo
    ) {
        url = options.url
        mode = options.mode
        streams = options.streams
        tokens = options.tokens
        let seconds = window.seconds
        measuredSeconds = seconds
        promptsPerSecond = Double(after.promptsCompleted - before.promptsCompleted) / seconds
        messagesPerSecond = Double(after.messages - before.messages) / seconds
        tokensPerSecond = Double(after.tokens - before.tokens) / seconds
        promptsCompleted = final.promptsCompleted
        promptsFailed = final.promptsFailed
        self.unfinished = unfinished
        lostTokens = final.lostTokens
        duplicates = final.duplicates
        outOfOrder = final.outOfOrder
        self.firstToken = Percentiles(firstToken)
        failures = final.failures.sorted { $0.value > $1.value }.prefix(8).map { ($0.key, $0.value) }
        self.target = target
        targetCPUPercent = target?.cpuTime?.percentOfOneCore(over: window)
        benchCPUPercent = benchCPU?.percentOfOneCore(over: window)
        self.machine = machine
    }

    /// Every answer complete, in order, once.
    public var isClean: Bool {
        promptsFailed == 0 && unfinished == 0 && lostTokens == 0 && duplicates == 0 && outOfOrder == 0
    }

    public var text: String {
        var lines = ["TokenBridge bench (AMQP, \(mode.rawValue)): \(url)"]
        lines.append("  machine   \(machine.cores) cores, \(machine.cpuModel) (broker, bridge and bench share them)")
        if mode == .brokerCeiling {
            lines.append("  load      answer-shaped messages, \(streams * 10) unconfirmed at most")
        } else {
            lines.append("  load      \(streams) prompts in flight x \(tokens) tokens")
        }
        lines.append("  measured  \(BenchReport.fixed(measuredSeconds, 2)) s")
        lines.append(
            "  rate      \(BenchReport.fixed(promptsPerSecond, 1)) prompts/s, \(BenchReport.fixed(messagesPerSecond, 0)) messages/s, "
                + "\(BenchReport.fixed(tokensPerSecond, 0)) tokens/s")
        if mode != .brokerCeiling {
            lines.append(
                "  prompts   completed \(promptsCompleted), failed \(promptsFailed), unfinished \(unfinished); "
                    + "tokens lost \(lostTokens), duplicated \(duplicates), out of order \(outOfOrder)")
            if let first = firstToken {
                lines.append("  first token  \(first.text)")
            }
        }
        if let target {
            let rss = target.peakResidentBytes.map { "peak RSS \(BenchReport.fixed(Double($0) / 1_048_576, 1)) MB" } ?? ""
            let cpu = targetCPUPercent.map { ", CPU \(BenchReport.fixed($0, 0))% of one core" } ?? ""
            lines.append("  target    \(rss)\(cpu)")
        }
        if let cpu = benchCPUPercent { lines.append("  bench     CPU \(BenchReport.fixed(cpu, 0))% of one core") }
        for (message, count) in failures { lines.append("  failure   \(count) x \(message)") }
        return lines.joined(separator: "\n") + "\n"
    }

    public var json: String {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.key("url")
        writer.string(url)
        writer.key("mode")
        writer.string(mode.rawValue)
        for (key, value) in [
            ("streams", streams), ("tokens", tokens), ("prompts_completed", promptsCompleted), ("prompts_failed", promptsFailed),
            ("unfinished", unfinished), ("lost_tokens", lostTokens), ("duplicates", duplicates), ("out_of_order", outOfOrder),
        ] {
            writer.key(key)
            writer.int(value)
        }
        for (key, value) in [
            ("measured_seconds", measuredSeconds), ("prompts_per_second", promptsPerSecond),
            ("messages_per_second", messagesPerSecond), ("tokens_per_second", tokensPerSecond),
        ] {
            writer.key(key)
            writer.double(value)
        }
        if let first = firstToken {
            writer.key("first_token_ms")
            first.write(to: &writer)
        }
        writer.key("target_peak_rss_bytes")
        if let peak = target?.peakResidentBytes { writer.int(peak) } else { writer.null() }
        writer.key("target_cpu_percent")
        if let cpu = targetCPUPercent { writer.double(cpu) } else { writer.null() }
        writer.key("bench_cpu_percent")
        if let cpu = benchCPUPercent { writer.double(cpu) } else { writer.null() }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self) + "\n"
    }
}
