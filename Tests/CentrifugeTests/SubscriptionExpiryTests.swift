import BridgeCore
import Glibc
import Testing

@testable import Centrifuge

/// Subscriptions whose token says: expired now (`"now"`) or in an hour (anything else: far past any
/// stall of a loaded test machine, so only `"now"` ever lapses here).
private struct ExpiringAuthorizer: ChannelAuthorizer {
    func authorizeConnect(token: String, now: Int64) -> ConnectDecision { .accept(Identity()) }
    func authorizeRefresh(token: String, identity: Identity, now: Int64) -> ConnectDecision { .accept(identity) }
    func authorizeSubscribe(channel: String, token: String, identity: Identity, client: String, now: Int64) -> SubscribeDecision {
        .allow(info: nil, expiresAt: token == "now" ? now : now + 3600)
    }
    func mayPublish(channel: String, identity: Identity) -> Bool { false }
}

@Suite("Subscription expiry")
struct SubscriptionExpiryTests {
    @Test func anExpiredSubscriptionEndsAfterTheGraceUnlessRefreshed() async throws {
        let harness = Harness(
            configuration: SessionConfiguration(expiredCloseDelay: .milliseconds(30)), authorizer: ExpiringAuthorizer())
        harness.connect()
        harness.send(#"{"id":2,"subscribe":{"channel":"$lapsing","token":"now"}}"#)
        harness.send(#"{"id":3,"subscribe":{"channel":"$renewed","token":"now"}}"#)
        let replies = harness.read()
        #expect(replies[0]["subscribe"]?["expires"] == true)
        harness.send(#"{"id":4,"sub_refresh":{"channel":"$renewed","token":"later"}}"#)
        let refreshed = harness.read()
        #expect(refreshed.first?["sub_refresh"]?["ttl"]?.intValue ?? 0 >= 3599)
        #expect(harness.transport.ticks.contains { $0 <= .milliseconds(30) }, "a tick is asked for at the grace's end")

        try await Task.sleep(for: .milliseconds(50))
        harness.session.tick()
        // Only the pushes: a machine stalled past the ping interval also gets a ping (`{}`) here.
        let pushes = harness.read().filter { $0["push"] != nil }
        #expect(pushes.count == 1)
        #expect(pushes.first?["push"]?["channel"] == "$lapsing")
        #expect(pushes.first?["push"]?["unsubscribe"]?["code"] == 2501, ">= 2500: the SDK subscribes again, with a new token")
        #expect(harness.session.subscribedChannels == ["$renewed"])
        #expect(harness.transport.closes.isEmpty, "the connection stays")

        // Gone from the channel too: a publication there reaches nobody.
        harness.hub.publish(channel: "$lapsing", data: Array("{}".utf8))
        harness.hub.publish(channel: "$renewed", data: Array("{}".utf8))
        #expect(harness.read().compactMap { $0["push"]?["channel"] } == ["$renewed"])
    }
}
