import BridgeCore

extension BenchReport {
    /// A readable table, for a person at a terminal.
    public var text: String {
        var lines = ["TokenBridge bench: \(url)"]
        lines.append(
            "  machine   \(machine.cores) cores, \(machine.cpuModel) (the client and the servers it drives share them)")
        lines.append("  load      \(streams) concurrent streams x \(tokens) tokens, \(lengthText)")
        lines.append("  measured  \(Self.fixed(measured.seconds, 2)) s (run \(Self.fixed(runTime.seconds, 2)) s)")
        lines.append(
            "  streams   started \(started), completed \(completed), errors \(errors), stalled \(stalled), "
                + "incomplete \(incomplete)")
        lines.append(
            "  rate      \(Self.fixed(streamsPerSecond, 1)) streams/s, \(Self.fixed(tokensPerSecond, 0)) tokens/s")
        if let ttft = timeToFirstToken {
            lines.append("  TTFT      \(ttft.text)  (\(ttft.count) streams)")
        } else {
            lines.append("  TTFT      no stream received a token")
        }
        if let latency = tokenLatency {
            lines.append("  per token \(latency.text)  (model to client, \(latency.count) tokens)")
        }
        lines.append("  tokens    lost \(lostTokens), extra \(extraTokens), out of order \(outOfOrder)")
        lines.append("  stalls    \(stallSeconds) s with streams in flight and no token arriving")
        if let pid = targetPID {
            lines.append("  pid \(pid)  \(Self.targetText(target, cpuPercent: targetCPUPercent))")
        }
        if let cpu = benchCPUPercent { lines.append("  bench     CPU \(Self.fixed(cpu, 0))% of one core") }
        lines += Self.failureLines(failures)
        return lines.joined(separator: "\n") + "\n"
    }

    /// One line of JSON, for scripts.
    public var json: String {
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writer.key("url")
        writer.string(url)
        Self.ints(
            &writer,
            [
                ("streams", streams), ("tokens", tokens), ("started", started), ("completed", completed),
                ("errors", errors), ("stalled", stalled), ("incomplete_streams", incomplete),
                ("lost_tokens", lostTokens), ("extra_tokens", extraTokens), ("stall_seconds", stallSeconds),
            ])
        switch length {
        case .rounds(let rounds): Self.ints(&writer, [("rounds", rounds)])
        case .duration(let duration): Self.doubles(&writer, [("duration_seconds", duration.seconds)])
        }
        Self.doubles(
            &writer,
            [
                ("measured_seconds", measured.seconds), ("run_seconds", runTime.seconds),
                ("streams_per_second", streamsPerSecond), ("tokens_per_second", tokensPerSecond),
            ])
        writer.key("ttft_ms")
        Self.write(timeToFirstToken, to: &writer)
        writer.key("token_latency_ms")
        Self.write(tokenLatency, to: &writer)
        Self.ints(&writer, [("out_of_order_tokens", outOfOrder)])
        Self.writeResources(
            pid: targetPID, target: target, targetCPUPercent: targetCPUPercent, benchCPUPercent: benchCPUPercent,
            failures: failures, machine: machine, to: &writer)
        writer.endObject()
        return writer.string + "\n"
    }

    // MARK: - Pieces

    static func write(_ percentiles: Percentiles?, to writer: inout JSONWriter) {
        guard let percentiles else { return writer.null() }
        percentiles.write(to: &writer)
    }

    private var lengthText: String { Self.lengthText(length) }

    static func lengthText(_ length: BenchOptions.Length) -> String {
        switch length {
        case .rounds(let rounds): return "\(rounds) rounds"
        case .duration(let duration): return "for \(Self.fixed(duration.seconds, 1)) s"
        }
    }

    static func targetText(_ target: ProcessSample?, cpuPercent: Double?) -> String {
        guard let target else { return "not readable" }
        let mb = { (bytes: Int?) in bytes.map { Self.fixed(Double($0) / 1_048_576, 1) + " MB" } ?? "?" }
        let cpu = cpuPercent.map { ", CPU \(Self.fixed($0, 0))% of one core" } ?? ""
        return "peak RSS (VmHWM) \(mb(target.peakResidentBytes)), RSS now \(mb(target.residentBytes)), "
            + "max sampled \(mb(target.maxSampledResidentBytes))\(cpu)"
    }

    static func failureLines(_ failures: [FailureSummary]) -> [String] {
        guard !failures.isEmpty else { return [] }
        var lines = ["  failures"]
        for failure in failures {
            lines.append("    \(failure.count) x \(failure.message)")
            if let example = failure.example { lines.append("      e.g. \(example)") }
        }
        return lines
    }

    /// `target`, `bench_cpu_percent`, `failures`, `machine`: what every HTTP-started run ends with.
    static func writeResources(
        pid: Int32?, target: ProcessSample?, targetCPUPercent: Double?, benchCPUPercent: Double?,
        failures: [FailureSummary], machine: MachineInfo, to writer: inout JSONWriter
    ) {
        writer.key("target")
        if let pid {
            writer.beginObject()
            ints(&writer, [("pid", Int(pid))])
            let values: [(String, Int?)] = [
                ("peak_rss_bytes", target?.peakResidentBytes), ("rss_bytes", target?.residentBytes),
                ("max_sampled_rss_bytes", target?.maxSampledResidentBytes),
            ]
            for (name, value) in values {
                writer.key(name)
                if let value { writer.int(value) } else { writer.null() }
            }
            writer.key("cpu_percent")
            if let cpu = targetCPUPercent { writer.double(rounded(cpu)) } else { writer.null() }
            writer.endObject()
        } else {
            writer.null()
        }
        writer.key("bench_cpu_percent")
        if let cpu = benchCPUPercent { writer.double(rounded(cpu)) } else { writer.null() }
        writer.key("failures")
        writer.beginArray()
        for failure in failures {
            writer.beginObject()
            writer.key("message")
            writer.string(failure.message)
            ints(&writer, [("count", failure.count)])
            writer.key("example")
            if let example = failure.example { writer.string(example) } else { writer.null() }
            writer.endObject()
        }
        writer.endArray()
        writer.key("machine")
        writer.beginObject()
        ints(&writer, [("cores", machine.cores)])
        writer.key("cpu_model")
        writer.string(machine.cpuModel)
        writer.endObject()
    }

    static func ints(_ writer: inout JSONWriter, _ pairs: [(String, Int)]) {
        for (name, value) in pairs {
            writer.key(name)
            writer.int(value)
        }
    }

    static func doubles(_ writer: inout JSONWriter, _ pairs: [(String, Double)]) {
        for (name, value) in pairs {
            writer.key(name)
            writer.double(rounded(value))
        }
    }

    /// Microsecond precision is all a millisecond figure here can claim; it also keeps the JSON short.
    static func rounded(_ value: Double) -> Double {
        (value * 1000).rounded() / 1000
    }

    static func ms(_ duration: Duration) -> String {
        fixed(duration.milliseconds, 2) + " ms"
    }

    /// `value` with `digits` decimals (no Foundation formatter needed for this).
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let sign = value < 0 && scaled != 0 ? "-" : ""
        let whole = scaled / Int64(scale)
        guard digits > 0 else { return "\(sign)\(whole)" }
        let fraction = String(scaled % Int64(scale))
        return "\(sign)\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
