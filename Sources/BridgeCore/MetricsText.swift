/// Prometheus' text exposition format (version 0.0.4), written by hand: a few gauges and counters
/// do not need a metrics library.
public struct MetricsText: Sendable {
    public private(set) var text = ""

    public init() {}

    public mutating func gauge(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
        family(name, help, "gauge")
        sample(name, value, labels)
    }

    public mutating func counter(_ name: String, _ help: String, _ value: Double) {
        family(name, help, "counter")
        sample(name, value, [])
    }

    /// One gauge family with a sample per label set (quantiles, say).
    public mutating func gauges(_ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
        family(name, help, "gauge")
        for (labels, value) in samples { sample(name, value, labels) }
    }

    /// One family with a sample per label set.
    public mutating func counters(_ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
        family(name, help, "counter")
        for (labels, value) in samples { sample(name, value, labels) }
    }

    private mutating func family(_ name: String, _ help: String, _ type: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private mutating func sample(_ name: String, _ value: Double, _ labels: [(String, String)]) {
        text += name
        if !labels.isEmpty {
            let escaped = labels.map { key, value in
                let clean = value.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"").replacingAll("\n", with: "\\n")
                return "\(key)=\"\(clean)\""
            }
            text += "{" + escaped.joined(separator: ",") + "}"
        }
        text += " " + (value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)) + "\n"
    }
}

/// A part of the bridge that reports on `/metrics`.
public protocol MetricsSource: Sendable {
    func writeMetrics(to metrics: inout MetricsText)
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
