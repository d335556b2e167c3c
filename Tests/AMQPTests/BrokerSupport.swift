import AMQP
import Foundation
import Logging
import Synchronization

/// The broker the connection tests use: `TB_RABBITMQ_URL`, which scripts/test.sh sets after
/// starting a private RabbitMQ. Without it those tests are skipped (and say so); they never pass
/// without a broker.
enum TestBroker {
    static let url: String? = ProcessInfo.processInfo.environment["TB_RABBITMQ_URL"]
    static var isConfigured: Bool { url != nil }

    static func configuration(heartbeat: Duration = .seconds(30), url override: String? = nil) throws -> AMQPConnectionConfiguration {
        let text = override ?? url ?? "amqp://guest:guest@127.0.0.1:5672/"
        return AMQPConnectionConfiguration(
            url: try AMQPURL(parsing: text), heartbeat: heartbeat, connectTimeout: .seconds(5),
            reconnectBackoff: .milliseconds(100), reconnectBackoffMax: .milliseconds(500), connectionName: "tokenbridge-tests")
    }

    /// A queue name no other test uses.
    static func uniqueName(_ stem: String) -> String {
        "tb-test.\(stem).\(UUID().uuidString.prefix(8))"
    }

    static let logger = Logger(label: "amqp-tests")
}

/// Records what a connection reports, and lets a test wait for it.
final class RecordingDelegate: AMQPConnectionDelegate {
    private struct State {
        var opened: [UInt64] = []
        var closed: [(UInt64, AMQPError)] = []
        var deliveries: [AMQPDelivery] = []
    }

    private let state = Mutex(State())

    func amqpConnection(_ connection: AMQPConnection, didOpenSession session: UInt64) {
        state.withLock { $0.opened.append(session) }
    }

    func amqpConnection(_ connection: AMQPConnection, didCloseSession session: UInt64, error: AMQPError) {
        state.withLock { $0.closed.append((session, error)) }
    }

    func amqpConnection(_ connection: AMQPConnection, didReceive delivery: AMQPDelivery) {
        state.withLock { $0.deliveries.append(delivery) }
    }

    var deliveries: [AMQPDelivery] { state.withLock { $0.deliveries } }
    var openedSessions: [UInt64] { state.withLock { $0.opened } }
    var closedSessions: [(UInt64, AMQPError)] { state.withLock { $0.closed } }
}

/// Waits until `condition` holds, checking every 10 ms, for at most `timeout`; returns whether it held.
func eventually(timeout: Duration = .seconds(60), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Publishes and waits for the outcome.
func publishAndWait(_ connection: AMQPConnection, _ message: AMQPOutgoingMessage) async -> AMQPPublishOutcome {
    await withCheckedContinuation { continuation in
        connection.publish(message) { continuation.resume(returning: $0) }
    }
}
