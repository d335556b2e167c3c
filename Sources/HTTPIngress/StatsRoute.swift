import BridgeCore
import WebServer

/// `GET /api/stats`: what `/metrics` reports, as one JSON object a page can poll
/// (`web/dashboard.html`). Counters are totals since the process started; a reader derives rates
/// (tokens/s) from two readings.
///
/// ```json
/// {
///   "streams": {"active": 2, "max_concurrent": 1000, "started_total": 40,
///               "ended_total": {"done": 37, "error": 2, "cancelled": 1}},
///   "tokens": {"publications_total": 5120},
///   "clients": {"connections": 3, "subscriptions": 3},
///   "journal": {"streams": 12, "bytes": 40960, "waiting_readers": 0},
///   "sinks": {
///     "websocket": {"connections": 3, "connections_total": 9, "subscriptions": 3, "channels": 12,
///                   "publications_total": 5120, "history_bytes": 81920, "history_evictions_total": 0,
///                   "slow_disconnects_total": 0},
///     "centrifugo": {"publications_total": 5120, "requests_total": 300, "retries_total": 0,
///                    "failed_streams_total": 0, "dropped_total": 0, "pending": 0},
///     "rabbitmq": {"connected": 1, "sessions_total": 1, "prompts_running": 0, "prompts_waiting": 0,
///                  "sink_failures_total": 0}
///   },
///   "ttft_ms": {"p50": 21.4, "p99": 48.0, "count": 12}
/// }
/// ```
/// - `tokens.publications_total`: stream events the channel server published (one per text delta,
///   which is one per model token, plus `start` and the terminal event of each stream).
/// - `sinks`: one object per sink this bridge has set up (`centrifugo` only with
///   `sinks.centrifugo.api_url`, `rabbitmq` only with the queue ingress); each key is its
///   `/metrics` family without the `tokenbridge_<sink>_` prefix. `centrifugo.pending` is that
///   sink's lag (publications not yet accepted), `rabbitmq.prompts_waiting` the queue's.
/// - `ttft_ms`: time from a stream joining the pipeline to the model's first output, `{"p50",
///   "p99", "count"}` over the last 1000 streams; null before the first.
extension HTTPIngress {
    func reportStats(_ context: RouteContext) {
        // The sinks' numbers are read from the text they write for `/metrics`, so both routes show
        // the same values and a sink adds a number to both in one place.
        var metrics = MetricsText()
        for source in metricsSources { source.writeMetrics(to: &metrics) }
        let samples = MetricSample.parse(metrics.text)
        let (started, ended) = pipeline.counts
        let channel = { (name: String) in samples.first { $0.name == "tokenbridge_channel_\(name)" }?.value ?? 0 }

        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writer.key("streams")
        writer.beginObject()
        writer.key("active")
        writer.int(pipeline.activeCount)
        writer.key("max_concurrent")
        writer.int(pipeline.configuration.maxConcurrentStreams)
        writer.key("started_total")
        writer.int(started)
        writer.key("ended_total")
        writer.beginObject()
        for end in ["done", "error", "cancelled"] {
            writer.key(end)
            writer.int(ended[end] ?? 0)
        }
        writer.endObject()
        writer.endObject()
        writer.key("tokens")
        writer.beginObject()
        writer.key("publications_total")
        writer.number(channel("publications_total"))
        writer.endObject()
        writer.key("clients")
        writer.beginObject()
        writer.key("connections")
        writer.number(channel("connections"))
        writer.key("subscriptions")
        writer.number(channel("subscriptions"))
        writer.endObject()
        writer.key("journal")
        writer.beginObject()
        writer.key("streams")
        writer.int(pipeline.journal.streamCount)
        writer.key("bytes")
        writer.int(pipeline.journal.heldBytes)
        writer.key("waiting_readers")
        writer.int(pipeline.journal.waitingReaderCount)
        writer.endObject()
        writer.key("sinks")
        writeSinks(samples, to: &writer)
        writer.key("ttft_ms")
        if let ttft = pipeline.timeToFirstToken {
            writer.beginObject()
            writer.key("p50")
            writer.double(ttft.p50.secondsValue * 1000)
            writer.key("p99")
            writer.double(ttft.p99.secondsValue * 1000)
            writer.key("count")
            writer.int(ttft.count)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.endObject()
        context.respondJSON(writer.bytes, headers: [("cache-control", "no-store")])
    }

    /// Families by sink: `tokenbridge_channel_*` (and `tokenbridge_channels`) are the embedded
    /// channel server's, `tokenbridge_centrifugo_*` and `tokenbridge_rabbitmq_*` those sinks'.
    private static func sinkKey(of name: String) -> (sink: String, key: String)? {
        if name == "tokenbridge_channels" { return ("websocket", "channels") }
        let prefixes = [
            ("websocket", "tokenbridge_channel_"), ("centrifugo", "tokenbridge_centrifugo_"), ("rabbitmq", "tokenbridge_rabbitmq_"),
        ]
        for (sink, prefix) in prefixes where name.hasPrefix(prefix) { return (sink, String(name.dropFirst(prefix.count))) }
        return nil
    }

    private func writeSinks(_ samples: [MetricSample], to writer: inout JSONWriter) {
        // In the order `/metrics` lists them: sink by sink, family by family.
        var sinks: [(sink: String, families: [(key: String, samples: [MetricSample])])] = []
        for sample in samples {
            guard let (sink, key) = Self.sinkKey(of: sample.name) else { continue }
            if sinks.last?.sink != sink { sinks.append((sink, [])) }
            let last = sinks.count - 1
            if sinks[last].families.last?.key == key {
                sinks[last].families[sinks[last].families.count - 1].samples.append(sample)
            } else {
                sinks[last].families.append((key, [sample]))
            }
        }
        writer.beginObject()
        for (sink, families) in sinks {
            writer.key(sink)
            writer.beginObject()
            for (key, members) in families {
                writer.key(key)
                if members.count == 1, members[0].labels.isEmpty {
                    writer.number(members[0].value)
                } else {
                    // A family with labels: one entry per label set, named by its values.
                    writer.beginObject()
                    for member in members {
                        writer.key(member.labels.map(\.value).joined(separator: ","))
                        writer.number(member.value)
                    }
                    writer.endObject()
                }
            }
            writer.endObject()
        }
        writer.endObject()
    }
}

/// One sample line of Prometheus' text format as `MetricsText` writes it:
/// `name{key="value",...} number`.
struct MetricSample {
    var name: String
    var labels: [(key: String, value: String)]
    var value: Double

    /// Every sample of `text`; comment lines and lines that do not parse are skipped.
    static func parse(_ text: String) -> [MetricSample] {
        text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                let value = Double(line[line.index(after: space)...])
            else { return nil }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return MetricSample(name: String(series), labels: [], value: value) }
            guard series.hasSuffix("}") else { return nil }
            let labels = parseLabels(series[series.index(after: brace)..<series.index(before: series.endIndex)])
            return MetricSample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }

    /// `key="value",...` with `\\`, `\"` and `\n` escapes in values.
    private static func parseLabels(_ text: Substring) -> [(key: String, value: String)] {
        var labels: [(key: String, value: String)] = []
        var rest = text[...]
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingPrefix(",")
            var value = ""
            var index = rest.index(after: equals)
            guard index < rest.endIndex, rest[index] == "\"" else { break }
            index = rest.index(after: index)
            var escaped = false
            while index < rest.endIndex {
                let character = rest[index]
                index = rest.index(after: index)
                if escaped {
                    value.append(character == "n" ? "\n" : character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    break
                } else {
                    value.append(character)
                }
            }
            labels.append((String(key), value))
            rest = rest[index...]
        }
        return labels
    }
}

extension JSONWriter {
    /// A metric value: an integer when it is one (counters, gauges of counts), else a double.
    fileprivate mutating func number(_ value: Double) {
        if value.rounded() == value, value.magnitude < 9e15 {
            int(Int(value))
        } else {
            double(value)
        }
    }
}
