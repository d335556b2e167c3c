import BridgeCore

extension EgressBenchReport {
    /// A readable table, for a person at a terminal.
    public var text: String {
        let egresses = lines.map(\.egress.rawValue).joined(separator: ", ")
        var out = ["TokenBridge bench (HTTP in; out on \(egresses)): \(url)"]
        out.append("  machine   \(machine.cores) cores, \(machine.cpuModel) (the client and the servers it drives share them)")
        let fanout = subscribersPerStream > 0 ? ", \(subscribersPerStream) channel subscriber(s) each" : ""
        let pace = rate == 0 ? "unlimited rate" : "\(BenchReport.fixed(rate, 1)) tokens/s"
        out.append("  load      \(streams) concurrent streams x \(tokens) tokens\(fanout), \(pace), \(BenchReport.lengthText(length))")
        out.append("  measured  \(BenchReport.fixed(measured.seconds, 2)) s (run \(BenchReport.fixed(runTime.seconds, 2)) s)")
        out.append(
            "  streams   started \(started), completed \(completed), errors \(errors), stalled \(stalled), "
                + "unfinished \(unfinished); \(BenchReport.fixed(streamsPerSecond, 1)) streams/s")
        for line in lines {
            out.append(
                "  \(line.egress.rawValue.padding(4))  readers \(line.readers), tokens \(line.tokens) of \(line.expectedTokens) "
                    + "(\(BenchReport.fixed(line.tokensPerSecond, 0))/s); lost \(line.lost), duplicated \(line.duplicated), "
                    + "out of order \(line.outOfOrder), failed \(line.failed)")
            out.append("        TTFT      " + (line.timeToFirstToken.map(\.text) ?? "no token arrived"))
            if let latency = line.tokenLatency { out.append("        per token \(latency.text)  (model to reader)") }
        }
        if let pid = targetPID { out.append("  pid \(pid)  \(BenchReport.targetText(target, cpuPercent: targetCPUPercent))") }
        if let cpu = benchCPUPercent { out.append("  bench     CPU \(BenchReport.fixed(cpu, 0))% of one core") }
        if let fatal { out.append("  stopped   every request was refused: \(fatal)") }
        out += BenchReport.failureLines(failures)
        out.append("  verdict   " + (isClean ? "clean: every token once, in order, on every egress" : "NOT clean (see above)"))
        return out.joined(separator: "\n") + "\n"
    }

    /// One line of JSON, for scripts. The top level keeps `bench --egress sse`'s names (its
    /// `tokens_per_second`, `ttft_ms`, `token_latency_ms` are the first egress's, the SSE's when
    /// it is read); `egress.<name>` has each egress.
    public var json: String {
        var writer = JSONWriter(capacity: 2048)
        writer.beginObject()
        writer.key("url")
        writer.string(url)
        writer.key("amqp_url")
        if let amqpURL { writer.string(amqpURL) } else { writer.null() }
        writer.key("ingress")
        writer.string("http")
        writer.key("egresses")
        writer.beginArray()
        for line in lines { writer.string(line.egress.rawValue) }
        writer.endArray()
        BenchReport.ints(
            &writer,
            [
                ("streams", streams), ("tokens", tokens), ("subscribers_per_stream", subscribersPerStream),
                ("started", started), ("completed", completed), ("errors", errors), ("stalled", stalled),
                ("unfinished", unfinished), ("lost_tokens", lines.reduce(0) { $0 + $1.lost }),
                ("duplicated_tokens", lines.reduce(0) { $0 + $1.duplicated }),
                ("out_of_order_tokens", lines.reduce(0) { $0 + $1.outOfOrder }),
            ])
        switch length {
        case .rounds(let rounds): BenchReport.ints(&writer, [("rounds", rounds)])
        case .duration(let duration): BenchReport.doubles(&writer, [("duration_seconds", duration.seconds)])
        }
        BenchReport.doubles(
            &writer,
            [
                ("rate", rate), ("measured_seconds", measured.seconds), ("run_seconds", runTime.seconds),
                ("streams_per_second", streamsPerSecond), ("tokens_per_second", tokensPerSecond),
                ("all_egresses_tokens_per_second", allEgressesTokensPerSecond),
            ])
        writer.key("ttft_ms")
        BenchReport.write(timeToFirstToken, to: &writer)
        writer.key("token_latency_ms")
        BenchReport.write(lines.first?.tokenLatency, to: &writer)
        writer.key("egress")
        writer.beginObject()
        for line in lines {
            writer.key(line.egress.rawValue)
            Self.write(line, to: &writer)
        }
        writer.endObject()
        writer.key("fatal")
        if let fatal { writer.string(fatal) } else { writer.null() }
        writer.key("clean")
        writer.bool(isClean)
        BenchReport.writeResources(
            pid: targetPID, target: target, targetCPUPercent: targetCPUPercent, benchCPUPercent: benchCPUPercent,
            failures: failures, machine: machine, to: &writer)
        writer.endObject()
        return writer.string + "\n"
    }

    private static func write(_ line: Line, to writer: inout JSONWriter) {
        writer.beginObject()
        BenchReport.ints(
            &writer,
            [
                ("readers", line.readers), ("completed", line.completed), ("failed", line.failed), ("tokens", line.tokens),
                ("expected_tokens", line.expectedTokens), ("lost_tokens", line.lost), ("duplicated_tokens", line.duplicated),
                ("out_of_order_tokens", line.outOfOrder),
            ])
        BenchReport.doubles(&writer, [("tokens_per_second", line.tokensPerSecond)])
        writer.key("ttft_ms")
        BenchReport.write(line.timeToFirstToken, to: &writer)
        writer.key("token_latency_ms")
        BenchReport.write(line.tokenLatency, to: &writer)
        writer.key("clean")
        writer.bool(line.isClean)
        writer.endObject()
    }
}

extension String {
    /// The string padded with spaces to `width` characters, for aligned names.
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
