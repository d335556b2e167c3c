import Testing

@testable import AMQP

@Suite("Connection inbox")
struct InboxTests {
    func message(_ bytes: Int) -> ConnectionCommand {
        .publish(AMQPOutgoingMessage(routingKey: "q", body: [UInt8](repeating: 0, count: bytes)), { _ in })
    }

    @Test func publishesAreBoundedInBytesUntilTheThreadTakesThem() throws {
        let inbox = try ConnectionInbox(maxPublishBytes: 10_000)
        #expect(inbox.post(message(4_000)) == .accepted)
        #expect(inbox.post(message(4_000)) == .accepted)
        #expect(inbox.post(message(4_000)) == .full, "8.5 KB wait already")
        #expect(inbox.post(.ack(AMQPDeliveryTag(session: 1, value: 1))) == .accepted, "acks are never refused")
        let taken = inbox.take()
        #expect(taken.count == 3)
        #expect(inbox.post(message(4_000)) == .full, "taken is not sent: it still counts")
        guard case .publish(let first, _) = taken[0] else { Issue.record("expected a publish"); return }
        inbox.released(first)
        #expect(inbox.post(message(4_000)) == .accepted, "room again once one was handed to the broker")
    }

    @Test func oneMessageLargerThanTheBoundGoesWhenNothingElseWaits() throws {
        let inbox = try ConnectionInbox(maxPublishBytes: 1_000)
        #expect(inbox.post(message(5_000)) == .accepted)
        #expect(inbox.post(message(10)) == .full)
    }

    @Test func aClosedInboxRefusesEverything() throws {
        let inbox = try ConnectionInbox()
        #expect(inbox.post(message(10)) == .accepted)
        #expect(inbox.close().count == 1)
        #expect(inbox.post(message(10)) == .closed)
        #expect(inbox.post(.ack(AMQPDeliveryTag(session: 1, value: 1))) == .closed)
    }
}

@Suite("Publish confirms")
struct PublishConfirmsTests {
    @Test func settlesSingleMultipleAndReturnedPublishesInOrder() {
        var confirms = PublishConfirms()
        for index in 1...5 { confirms.record(messageID: "m\(index)") { _ in } }
        confirms.markReturned(messageID: "m2", trackingID: nil, reason: "NO_ROUTE")
        #expect(confirms.settle(tag: 3, multiple: false, acked: true).map(\.1) == [.confirmed])
        #expect(confirms.settle(tag: 4, multiple: true, acked: true).map(\.1) == [.confirmed, .returned("NO_ROUTE"), .confirmed])
        #expect(confirms.settle(tag: 5, multiple: false, acked: false).map(\.1) == [.rejected])
        #expect(confirms.isEmpty)
        // Copies that share a message id are told apart by their tracking id; returns match the oldest.
        confirms.record(messageID: "same", trackingID: "t1") { _ in }
        confirms.record(messageID: "same", trackingID: "t2") { _ in }
        confirms.markReturned(messageID: "same", trackingID: "t2", reason: "NO_ROUTE")
        #expect(confirms.settle(tag: 7, multiple: true, acked: true).map(\.1) == [.confirmed, .returned("NO_ROUTE")])
        confirms.record(messageID: nil) { _ in }
        let failed = confirms.failAll(AMQPError(.connectionLost, "gone"))
        #expect(failed.map(\.1) == [.failed(AMQPError(.connectionLost, "gone"))])
        #expect(confirms.nextSequence == 9)
    }
}

@Suite("Reconnect backoff")
struct ReconnectBackoffTests {
    @Test func doublesUpToTheCapWithJitterAndResets() {
        var backoff = ReconnectBackoff(base: .milliseconds(100), maximum: .seconds(1))
        var generator = SystemRandomNumberGenerator()
        let delays = (0..<8).map { _ in backoff.nextDelay(using: &generator) }
        for (index, delay) in delays.enumerated() {
            let step = min(Duration.milliseconds(100) * (1 << index), .seconds(1))
            #expect(delay >= step / 2 && delay <= step, "attempt \(index): \(delay) within [\(step / 2), \(step)]")
        }
        backoff.reset()
        #expect(backoff.nextDelay(using: &generator) <= .milliseconds(100))
    }
}
