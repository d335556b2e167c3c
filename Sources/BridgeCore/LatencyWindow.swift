/// The last `capacity` latencies of something (streams' time to first token), for percentiles
/// over recent traffic rather than since start.
public struct LatencyWindow: Sendable {
    public let capacity: Int
    private var samples: [Duration] = []
    private var next = 0
    public private(set) var total = 0

    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
    }

    public mutating func record(_ latency: Duration) {
        total += 1
        if samples.count < capacity {
            samples.append(latency)
        } else {
            samples[next] = latency
        }
        next = (next + 1) % capacity
    }

    /// p50, p99 and how many samples they come from; nil before the first.
    public var summary: (p50: Duration, p99: Duration, count: Int)? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        // Nearest rank: the smallest sample at or above that fraction of them.
        func rank(_ fraction: Double) -> Duration {
            let position = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(sorted.count - 1, max(0, position))]
        }
        return (rank(0.5), rank(0.99), sorted.count)
    }
}

extension Duration {
    /// The duration in seconds, as a `Double` (metrics, JSON).
    public var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
