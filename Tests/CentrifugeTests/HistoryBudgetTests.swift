import BridgeCore
import Testing

@testable import Centrifuge

@Suite("History budget")
struct HistoryBudgetTests {
    /// A 100-byte data object, so a publication's retained size is easy to reason about.
    private static let data = Array(#"{"text":"\#(String(repeating: "x", count: 89))"}"#.utf8)

    /// What one publication on a channel nobody subscribes to keeps (no push frame is built).
    private static func retained(_ channel: String) -> Int {
        Publication(channel: channel, offset: 1, data: data, encodingPush: false).retainedBytes
    }

    @Test func theTotalFollowsEveryChangeToHistory() {
        let hub = ChannelHub(configuration: .init(historySize: 3))
        for seq in 1...5 { hub.publishStream(channel: "stream_a", epoch: "E", seq: UInt64(seq), data: Self.data) }
        #expect(hub.historyBytes == 3 * Self.retained("stream_a"), "the ring keeps 3, and their sizes")
        hub.publish(channel: "news", data: Self.data)
        #expect(hub.historyBytes == 3 * Self.retained("stream_a") + Self.retained("news"))
        hub.publishStream(channel: "stream_a", epoch: "RERUN", seq: 1, data: Self.data)
        #expect(hub.historyBytes == Self.retained("stream_a") + Self.retained("news"), "a new epoch drops the old run")
        hub.removeHistory(channel: "news")
        hub.sweep(now: .now + .seconds(3600))
        #expect(hub.historyBytes == 0, "removed and expired history leaves nothing counted")
        #expect(hub.historyEvictions == 0)
    }

    @Test func overTheBudgetTheLeastRecentlyPublishedChannelsLoseTheirHistoryFirst() {
        let perChannel = 10 * Self.retained("stream_0")
        // Room for a bit over 4 channels of 10 publications.
        let hub = ChannelHub(configuration: .init(historySize: 100, maxHistoryBytes: perChannel * 4 + perChannel / 2))
        for channel in 0..<4 {
            for seq in 1...10 { hub.publishStream(channel: "stream_\(channel)", epoch: "E", seq: UInt64(seq), data: Self.data) }
        }
        #expect(hub.historyEvictions == 0, "within the budget nothing goes")
        // Channel 0 publishes again, so channel 1 becomes the least recent.
        hub.publishStream(channel: "stream_0", epoch: "E", seq: 11, data: Self.data)
        for seq in 1...10 { hub.publishStream(channel: "stream_4", epoch: "E", seq: UInt64(seq), data: Self.data) }
        #expect(hub.historyEvictions == 1)
        #expect(hub.historyBytes <= perChannel * 4 + perChannel / 2)
        #expect(Self.count(hub, "stream_1") == 0, "the least recently published went")
        #expect(Self.count(hub, "stream_0") == 11)
        #expect(Self.count(hub, "stream_2") == 10)
        #expect(Self.count(hub, "stream_4") == 10, "the channel being published keeps its history")
    }

    @Test func theRecencyListHoldsExactlyTheChannelsThatHaveHistory() {
        let hub = ChannelHub(configuration: .init(historySize: 10, historyTTL: .seconds(60)))
        for channel in 0..<50 {
            for seq in 1...3 { hub.publishStream(channel: "stream_\(channel)", epoch: "E", seq: UInt64(seq), data: Self.data) }
        }
        #expect(hub.recencyListLength == 50, "one entry per channel, however often it publishes")
        hub.publishStream(channel: "stream_7", epoch: "RERUN", seq: 1, data: Self.data)
        #expect(hub.recencyListLength == 50, "a rerun empties and refills the history: still one entry")
        hub.removeHistory(channel: "stream_8")
        #expect(hub.recencyListLength == 49)
        hub.sweep(now: .now + .seconds(3600))
        #expect(hub.recencyListLength == 0, "expired histories leave the list")
        #expect(hub.historyBytes == 0)
    }

    @Test func aChannelPublishedAgainAfterItsTurnCameIsKeptOverOneThatWasNot() {
        let perChannel = 10 * Self.retained("stream_0")
        let hub = ChannelHub(configuration: .init(historySize: 100, maxHistoryBytes: perChannel * 3 + perChannel / 2))
        for channel in 0..<3 {
            for seq in 1...10 { hub.publishStream(channel: "stream_\(channel)", epoch: "E", seq: UInt64(seq), data: Self.data) }
        }
        // 0 and 1 publish again: 2 is now the least recently published, though it was queued last.
        hub.publishStream(channel: "stream_0", epoch: "E", seq: 11, data: Self.data)
        hub.publishStream(channel: "stream_1", epoch: "E", seq: 11, data: Self.data)
        for seq in 1...10 { hub.publishStream(channel: "stream_3", epoch: "E", seq: UInt64(seq), data: Self.data) }
        #expect(Self.count(hub, "stream_2") == 0)
        #expect(Self.count(hub, "stream_0") == 11)
        #expect(Self.count(hub, "stream_1") == 11)
        #expect(Self.count(hub, "stream_3") == 10)
    }

    @Test func aSubscriberOfAnEvictedChannelIsNotRecovered() {
        let one = 5 * Self.retained("stream_old")
        let hub = ChannelHub(configuration: .init(historySize: 100, maxHistoryBytes: one + one / 2))
        for seq in 1...5 { hub.publishStream(channel: "stream_old", epoch: "E", seq: UInt64(seq), data: Self.data) }
        for seq in 1...5 { hub.publishStream(channel: "stream_new", epoch: "F", seq: UInt64(seq), data: Self.data) }
        let harness = Harness(hub: hub)
        harness.connect()
        harness.send(#"{"id":2,"subscribe":{"channel":"stream_old","recover":true,"offset":0,"epoch":""}}"#)
        harness.send(#"{"id":3,"subscribe":{"channel":"stream_new","recover":true,"offset":0,"epoch":""}}"#)
        let replies = harness.read()
        #expect(replies[0]["subscribe"]?["recovered"] == nil, "its history is gone: not recovered, never a partial catch-up")
        #expect(replies[0]["subscribe"]?["offset"] == 5, "the position is still known")
        #expect(replies[1]["subscribe"]?["recovered"] == true)
        #expect(replies[1]["subscribe"]?["publications"]?.arrayValue?.count == 5)
    }

    private static func count(_ hub: ChannelHub, _ channel: String) -> Int {
        guard case .success(let page) = hub.history(channel: channel, limit: -1, since: nil, reverse: false) else { return -1 }
        return page.publications.count
    }
}

@Suite("Recency list")
struct RecencyListTests {
    /// Random appends, touches and removals against an array kept in the same order by hand.
    @Test func keepsTheOrderOfLastUse() {
        var list = RecencyList()
        var model: [(slot: Int, channel: Channel)] = []
        var generator = SystemRandomNumberGenerator()
        for step in 0..<5000 {
            let choice = Int.random(in: 0..<3, using: &generator)
            if choice == 0 || model.isEmpty {
                let channel = Channel(name: "c\(step)", historySize: 1)
                model.append((list.append(channel), channel))
            } else if choice == 1 {
                let index = Int.random(in: 0..<model.count, using: &generator)
                let entry = model.remove(at: index)
                list.touch(entry.slot)
                model.append(entry)
            } else {
                let index = Int.random(in: 0..<model.count, using: &generator)
                list.remove(model.remove(at: index).slot)
            }
            #expect(list.count == model.count)
            #expect(list.oldest?.slot == model.first?.slot)
            #expect(list.oldest?.channel === model.first?.channel)
        }
        while let (_, slot) = list.oldest {
            #expect(slot == model.removeFirst().slot)
            list.remove(slot)
        }
        #expect(model.isEmpty)
    }
}
