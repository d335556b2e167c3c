import AMQP
import Logging
import Synchronization

/// Whether RabbitMQ answers at a URL, asked before anything is started that needs it: a broker
/// that is not there is then one clear line at once, not a run of timeouts.
public enum BrokerCheck {
    /// Opens one connection to `url` and closes it; throws why it could not be opened (refused,
    /// bad credentials, no answer within `timeout`).
    public static func reach(_ url: String, timeout: Duration = .seconds(10)) async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical  // the failure is thrown, once
        let listener = SessionCounter()
        let connection = try AMQPConnection(
            configuration: AMQPConnectionConfiguration(url: try AMQPURL(parsing: url), connectionName: "tokenbridge bench check"),
            topology: AMQPTopology(), logger: logger)
        try connection.start(delegate: listener, threadName: "amqp-check")
        defer { connection.shutdown(timeout: .zero) }
        try await waitUntilOpen(url: url, timeout: timeout, connections: [connection]) { listener.opened.load(ordering: .acquiring) > 0 }
    }

    /// Waits until `isOpen`; throws as soon as a connection attempt failed, or at the timeout.
    static func waitUntilOpen(
        url: String, timeout: Duration, connections: [AMQPConnection], isOpen: () -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !isOpen() {
            let failure = connections.lazy.compactMap { connection -> String? in
                let status = connection.status
                return status.state != .connected ? status.lastError.map { "\($0)" } : nil
            }.first
            if let reason = failure ?? (ContinuousClock.now >= deadline ? "no answer within \(timeout)" : nil) {
                throw BenchError("RabbitMQ at \(url) is not reachable: \(reason)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private final class SessionCounter: AMQPConnectionDelegate {
        let opened = Atomic<Int>(0)

        func amqpConnection(_ connection: AMQPConnection, didOpenSession session: UInt64) {
            opened.add(1, ordering: .releasing)
        }

        func amqpConnection(_ connection: AMQPConnection, didCloseSession session: UInt64, error: AMQPError) {}
        func amqpConnection(_ connection: AMQPConnection, didReceive delivery: AMQPDelivery) {}
    }
}
