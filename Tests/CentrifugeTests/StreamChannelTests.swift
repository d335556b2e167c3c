import BridgeCore
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
