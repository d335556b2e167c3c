import BridgeCore
import Foundation
import Synchronization
import Testing

@testable import Centrifuge

@Suite("Stream channels")
struct StreamChannelTests {
    private static func event(_ seq: Int) -> [UInt8] { Array(#"{"seq":\#(seq)}"#.utf8) }

    @Test func otherPublishersReachAStreamsSubscribersLiveButNeverTakeItsOffsets() throws {
        let hub = ChannelHub()
        let harness = Harness(hub: hub)
        harness.connect()
        harness.send(#"{"id":2,"subscribe":{"channel":"stream_x","recover":true,"offset":0,"epoch":""}}"#)
        _ = harness.read()
        hub.publishStream(channel: "stream_x", epoch: "E", seq: 1, data: Self.event(1))
        let note = hub.publish(channel: "stream_x", data: Array(#"{"note":"from the API"}"#.utf8))
        #expect(note.offset == 0, "no offset of its own")
        hub.publishStream(channel: "stream_x", epoch: "E", seq: 2, data: Self.event(2))
        let pubs = harness.read().compactMap { $0["push"]?["pub"] }
        #expect(pubs.map { $0["offset"]?.intValue } == [1, nil, 2], "the stream's seq 2 still arrives, as offset 2")
        #expect(pubs[1]["data"]?["note"] == "from the API")
        guard case .success(let page) = hub.history(channel: "stream_x", limit: -1, since: nil, reverse: false) else {
            Issue.record("no history")
            return
        }
        #expect(page.publications.map(\.offset) == [1, 2], "history is the stream's alone")
        #expect(hub.publish(channel: "news", data: Self.event(9)).offset == 1, "other channels number their own")
    }
}

@Suite("Stream reruns, retired channels, presence")
struct StreamLifecycleTests {
    private static func event(_ seq: Int) -> [UInt8] { Array(#"{"seq":\#(seq)}"#.utf8) }

    @Test func liveSubscribersGoOnThroughARerunWhichStartsAtOffsetOne() {
        let hub = ChannelHub()
        let harness = Harness(hub: hub)
        harness.connect()
        harness.send(#"{"id":2,"subscribe":{"channel":"stream_r","recover":true,"offset":0,"epoch":""}}"#)
        _ = harness.read()
        for seq in 1...3 { hub.publishStream(channel: "stream_r", epoch: "RUNA", seq: UInt64(seq), data: Self.event(seq)) }
        hub.publishStream(channel: "stream_r", epoch: "RUNB", seq: 1, data: Self.event(1))
        #expect(harness.read().compactMap { $0["push"]?["pub"]?["offset"]?.intValue } == [1, 2, 3, 1])
    }

    @Test func aDroppedChannelKeepsItsPositionSoALateRecoveryIsNotFooled() throws {
        let hub = ChannelHub(configuration: .init(historyTTL: .seconds(60)))
        for seq in 1...3 { hub.publishStream(channel: "stream_old", epoch: "GONE", seq: UInt64(seq), data: Self.event(seq)) }
        hub.sweep(now: .now + .seconds(61))
        hub.sweep(now: .now + .seconds(61))
        #expect(hub.channelCount == 0, "history expired and nobody subscribed: the channel went")
        guard case .success(let page) = hub.history(channel: "stream_old", limit: 0, since: nil, reverse: false) else {
            Issue.record("history failed")
            return
        }
        #expect(page.epoch == "GONE" && page.offset == 3)
        let harness = Harness(hub: hub)
        harness.connect()
        harness.send(#"{"id":2,"subscribe":{"channel":"stream_old","recover":true,"offset":0,"epoch":""}}"#)
        let reply = try #require(harness.read().first?["subscribe"])
        #expect(reply["recovered"] == nil, "the history is gone: not recovered, rather than an empty stream")
        #expect(reply["epoch"] == "GONE")
        #expect(reply["offset"] == 3)
    }

    @Test func presenceShowsTheSubscriptionTokensInfo() {
        let hub = ChannelHub()
        let harness = Harness(hub: hub, authorizer: InfoAuthorizer())
        harness.connect()
        harness.send(#"{"id":2,"subscribe":{"channel":"room","token":"t"}}"#)
        _ = harness.read()
        let presence = hub.presence(channel: "room")
        #expect(presence.map(\.chanInfo) == [Array(#"{"seat":4}"#.utf8)])
    }
}

/// Allows every subscription with a fixed `info`.
private struct InfoAuthorizer: ChannelAuthorizer {
    func authorizeConnect(token: String, now: Int64) -> ConnectDecision { .accept(Identity()) }
    func authorizeRefresh(token: String, identity: Identity, now: Int64) -> ConnectDecision { .accept(identity) }
    func authorizeSubscribe(channel: String, token: String, identity: Identity, client: String, now: Int64) -> SubscribeDecision {
        .allow(info: Array(#"{"seat":4}"#.utf8), expiresAt: nil)
    }
    func mayPublish(channel: String, identity: Identity) -> Bool { false }
}

/// Records what reaches it.
private final class CountingSubscriber: ChannelSubscriber, Sendable {
    let received = Mutex<Int>(0)
    func channel(_ name: String, didPublish publication: Publication) { received.withLock { $0 += 1 } }
    func clientInfo(in channel: String) -> ClientInfo { ClientInfo(client: "counting", user: "") }
}

@Suite("Hub under a busy sweeper")
struct SweeperRaceTests {
    @Test func aSubscriberNeverLandsOnAChannelTheSweeperJustDropped() async {
        let hub = ChannelHub()
        let stop = Atomic<Bool>(false)
        // The sweeper drops every empty channel it sees, as fast as it can.
        let sweeper = Thread {
            while !stop.load(ordering: .relaxed) { hub.sweep() }
        }
        sweeper.start()
        var missed = 0
        for index in 0..<200_000 {
            let subscriber = CountingSubscriber()
            let name = "race-\(index)"
            hub.subscribe(subscriber, to: name, recover: nil) { _ in }
            hub.publish(channel: name, data: Array("{}".utf8))
            if subscriber.received.withLock({ $0 }) != 1 { missed += 1 }
            // Leave the map small, so the sweeper goes round fast.
            hub.unsubscribe(subscriber, from: name)
            hub.removeHistory(channel: name)
        }
        stop.store(true, ordering: .relaxed)
        #expect(missed == 0, "a subscribe raced with the sweeper and joined a channel nobody publishes to")
    }
}
