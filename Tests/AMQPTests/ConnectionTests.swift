import AMQP
import Testing

@Suite("AMQP connection against a real broker", .enabled(if: TestBroker.isConfigured, "TB_RABBITMQ_URL is not set (scripts/test.sh starts a broker and sets it)"))
struct ConnectionTests {
    @Test func publishesWithConfirmsAndConsumesWhatItPublished() async throws {
        let queue = TestBroker.uniqueName("roundtrip")
        let delegate = RecordingDelegate()
        let connection = try AMQPConnection(
            configuration: TestBroker.configuration(),
            topology: AMQPTopology(
                queues: [AMQPQueueDeclaration(name: queue, durable: false, autoDelete: true)], prefetch: 10,
                consumers: [AMQPConsumer(queue: queue, tag: "reader")]),
            logger: TestBroker.logger)
        try connection.start(delegate: delegate)
        defer { connection.shutdown(timeout: .seconds(2)) }
        #expect(await eventually { !delegate.openedSessions.isEmpty })

        var properties = AMQPProperties(
            contentType: "application/json", deliveryMode: .persistent, correlationID: "c-1", replyTo: "somewhere",
            messageID: "m-1", timestamp: 1_700_000_000, type: "delta")
        properties.headers = ["x-seq": .integer(7), "x-name": .string("Grüße"), "x-flag": .boolean(true), "x-nested": .table(["a": .array([.integer(1), .string("b")])])]
        let body = Array(#"{"text":"hello"}"#.utf8)
        let outcome = await publishAndWait(connection, AMQPOutgoingMessage(routingKey: queue, properties: properties, body: body))
        #expect(outcome == .confirmed)

        #expect(await eventually { delegate.deliveries.count == 1 })
        let delivery = try #require(delegate.deliveries.first)
        #expect(delivery.body == body)
        #expect(delivery.consumerTag == "reader")
        #expect(!delivery.redelivered)
        #expect(delivery.properties == properties)
        connection.ack(delivery.tag)
    }

    @Test func bodiesLargerThanAFrameArriveWhole() async throws {
        let queue = TestBroker.uniqueName("large")
        let delegate = RecordingDelegate()
        let connection = try AMQPConnection(
            configuration: TestBroker.configuration(),
            topology: AMQPTopology(
                queues: [AMQPQueueDeclaration(name: queue, durable: false, autoDelete: true)],
                consumers: [AMQPConsumer(queue: queue, tag: "reader", noAck: true)]),
            logger: TestBroker.logger)
        try connection.start(delegate: delegate)
        defer { connection.shutdown(timeout: .seconds(2)) }
        let body = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(await publishAndWait(connection, AMQPOutgoingMessage(routingKey: queue, body: body)) == .confirmed)
        #expect(await eventually { delegate.deliveries.count == 1 })
        #expect(delegate.deliveries.first?.body == body)
    }

    @Test func reportsAMandatoryMessageNoQueueTook() async throws {
        let connection = try AMQPConnection(configuration: TestBroker.configuration(), topology: AMQPTopology(), logger: TestBroker.logger)
        let delegate = RecordingDelegate()
        try connection.start(delegate: delegate)
        defer { connection.shutdown(timeout: .seconds(2)) }
        #expect(await eventually { !delegate.openedSessions.isEmpty })
        let outcome = await publishAndWait(
            connection,
            AMQPOutgoingMessage(
                routingKey: TestBroker.uniqueName("nobody"), properties: AMQPProperties(messageID: "lost-1"), body: [1, 2, 3]))
        guard case .returned(let reason) = outcome else {
            Issue.record("expected a return, got \(outcome)")
            return
        }
        #expect(reason.contains("NO_ROUTE"))
    }

    @Test func declaresBeforeTheFirstPublishAndAcceptsAQueueDeclaredDifferently() async throws {
        let fresh = TestBroker.uniqueName("fresh")
        let preexisting = TestBroker.uniqueName("preexisting")
        let delegate = RecordingDelegate()
        let connection = try AMQPConnection(
            configuration: TestBroker.configuration(),
            // Declared here without arguments, as a client that prepares its response queue would.
            topology: AMQPTopology(queues: [AMQPQueueDeclaration(name: preexisting, durable: false, autoDelete: false)]),
            logger: TestBroker.logger)
        try connection.start(delegate: delegate)
        defer { connection.shutdown(timeout: .seconds(2)) }
        #expect(await eventually { !delegate.openedSessions.isEmpty })
        for name in [fresh, preexisting] {
            let declaration = AMQPQueueDeclaration(name: name, durable: true, arguments: ["x-expires": .integer(60_000)])
            for index in 0..<3 {
                let outcome = await publishAndWait(
                    connection, AMQPOutgoingMessage(routingKey: name, body: [UInt8(index)], ensureQueue: declaration))
                #expect(outcome == .confirmed, "publish \(index) to \(name)")
            }
        }
        // Without acceptExisting the mismatch is an error for that publish only; the connection stays.
        let strict = AMQPQueueDeclaration(name: preexisting, durable: true, arguments: ["x-expires": .integer(1_000)], acceptExisting: false)
        let otherSession = try AMQPConnection(configuration: TestBroker.configuration(), topology: AMQPTopology(), logger: TestBroker.logger)
        let otherDelegate = RecordingDelegate()
        try otherSession.start(delegate: otherDelegate)
        defer { otherSession.shutdown(timeout: .seconds(2)) }
        #expect(await eventually { !otherDelegate.openedSessions.isEmpty })
        let refused = await publishAndWait(otherSession, AMQPOutgoingMessage(routingKey: preexisting, body: [9], ensureQueue: strict))
        guard case .failed(let error) = refused else {
            Issue.record("expected a failed declare, got \(refused)")
            return
        }
        #expect(error.code == .declareFailed)
        #expect(error.replyCode == 406)
        #expect(await publishAndWait(otherSession, AMQPOutgoingMessage(routingKey: preexisting, body: [10])) == .confirmed)
        #expect(otherDelegate.closedSessions.isEmpty)
    }

    @Test func aQueueBeingWrittenIsRedeclaredSoItDoesNotExpire() async throws {
        let queue = TestBroker.uniqueName("expiring")
        let connection = try AMQPConnection(configuration: TestBroker.configuration(), topology: AMQPTopology(), logger: TestBroker.logger)
        let delegate = RecordingDelegate()
        try connection.start(delegate: delegate)
        defer { connection.shutdown(timeout: .seconds(2)) }
        let renewed = AMQPQueueDeclaration(name: queue, durable: false, arguments: ["x-expires": .integer(1_500)], redeclareAfter: .milliseconds(500))
        // Published to every 300 ms for 3 s, twice its expiry, with nobody consuming: publishing
        // alone does not count as use, the redeclarations do.
        for index in 0..<10 {
            let outcome = await publishAndWait(connection, AMQPOutgoingMessage(routingKey: queue, body: [UInt8(index)], ensureQueue: renewed))
            #expect(outcome == .confirmed, "publish \(index)")
            try await Task.sleep(for: .milliseconds(300))
        }
    }

    @Test func aRequeuedDeliveryComesBackMarkedRedelivered() async throws {
        let queue = TestBroker.uniqueName("requeue")
        let delegate = RecordingDelegate()
        let connection = try AMQPConnection(
            configuration: TestBroker.configuration(),
            topology: AMQPTopology(
                queues: [AMQPQueueDeclaration(name: queue, durable: false, autoDelete: true)], prefetch: 1,
                consumers: [AMQPConsumer(queue: queue, tag: "reader")]),
            logger: TestBroker.logger)
        try connection.start(delegate: delegate)
        defer { connection.shutdown(timeout: .seconds(2)) }
        #expect(await publishAndWait(connection, AMQPOutgoingMessage(routingKey: queue, body: [42])) == .confirmed)
        #expect(await eventually { delegate.deliveries.count == 1 })
        let first = try #require(delegate.deliveries.first)
        connection.reject(first.tag, requeue: true)
        #expect(await eventually { delegate.deliveries.count == 2 })
        let second = try #require(delegate.deliveries.last)
        #expect(second.redelivered)
        #expect(second.body == [42])
        connection.ack(second.tag)
        // An ack for the settled first tag would be an unknown tag to the broker; acking twice is
        // the caller's bug, but a stale tag from an earlier session is dropped by the connection.
        connection.ack(AMQPDeliveryTag(session: second.tag.session + 100, value: 1))
        #expect(await publishAndWait(connection, AMQPOutgoingMessage(routingKey: queue, body: [43])) == .confirmed)
        #expect(await eventually { delegate.deliveries.count == 3 })
        #expect(delegate.closedSessions.isEmpty)
    }

    @Test func refusedCredentialsAreReportedAndRetried() async throws {
        guard let base = TestBroker.url, let at = base.firstIndex(of: "@") else { return }
        let wrong = "amqp://guest:not-the-password" + base[at...]
        let connection = try AMQPConnection(
            configuration: TestBroker.configuration(url: wrong), topology: AMQPTopology(), logger: TestBroker.logger)
        try connection.start(delegate: RecordingDelegate())
        defer { connection.shutdown(timeout: .zero) }
        #expect(await eventually { connection.status.lastError?.code == .accessRefused })
        #expect(connection.status.state != .connected)
        #expect(connection.status.sessionsOpened == 0)
    }

    @Test func anIdleConnectionOutlivesSeveralHeartbeatIntervals() async throws {
        let delegate = RecordingDelegate()
        let connection = try AMQPConnection(
            configuration: TestBroker.configuration(heartbeat: .seconds(1)), topology: AMQPTopology(), logger: TestBroker.logger)
        try connection.start(delegate: delegate)
        defer { connection.shutdown(timeout: .seconds(2)) }
        #expect(await eventually { !delegate.openedSessions.isEmpty })
        // Nothing to wait for here but time: with heartbeats missed, the broker drops a connection
        // after two intervals, so four quiet seconds would show it.
        try await Task.sleep(for: .seconds(4))
        #expect(delegate.closedSessions.isEmpty)
        #expect(connection.status.state == .connected)
        let queue = TestBroker.uniqueName("after-idle")
        #expect(
            await publishAndWait(
                connection,
                AMQPOutgoingMessage(routingKey: queue, body: [1], ensureQueue: AMQPQueueDeclaration(name: queue, durable: false, autoDelete: true)))
                == .confirmed)
    }
}
