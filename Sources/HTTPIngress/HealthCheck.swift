import BridgeCore
import Synchronization

/// Asks the model server whether it answers, at most once per `freshness`, so `/health` polled by
/// a load balancer does not turn into load on the model server.
final class HealthCheck: Sendable {
    struct Report: Sendable {
        var problem: String?
        var checkedAt: ContinuousClock.Instant
        var latency: Duration
    }

    private let client: any LLMClient
    private let freshness: Duration
    private let last = Mutex<Report?>(nil)

    init(client: any LLMClient, freshness: Duration = .seconds(2)) {
        self.client = client
        self.freshness = freshness
    }

    func report() async -> Report {
        let clock = ContinuousClock()
        if let cached = last.withLock({ $0 }), clock.now - cached.checkedAt < freshness { return cached }
        let started = clock.now
        let problem = await client.probe()
        let report = Report(problem: problem, checkedAt: clock.now, latency: clock.now - started)
        last.withLock { $0 = report }
        return report
    }
}
