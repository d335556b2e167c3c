import BridgeCore
import Testing

@testable import Centrifuge

@Suite("Client session")
struct SessionTests {
    @Test func connectRepliesWithClientIDPingAndPong() throws {
        let harness = Harness()
        let reply = try #require(harness.connect())
        #expect(reply["id"] == 1)
        let connect = try #require(reply["connect"])
        #expect(connect["client"]?.stringValue == harness.session.clientID)
        #expect(connect["ping"] == 25)
        #expect(connect["pong"] == true)
        #expect(connect["expires"] == nil, "no expiry without a token")
    }

    @Test(arguments: [
        #"{"id":1,"subscribe":{"channel":"c"}}"#, #"{"id":0,"connect":{}}"#, "", "\n\n", #"{"id":7}"#,
    ])
    func theFirstCommandMustBeAConnectWithAnID(_ first: String) {
        let harness = Harness()
        harness.send(first)
        #expect(harness.transport.closes == [.badRequest])
    }

    @Test func secondConnectAndUnknownMethodsAreBadRequests() {
        let again = Harness()
        again.connect()
        again.send(#"{"id":2,"connect":{}}"#)
        #expect(again.transport.closes == [.badRequest])
        let unknown = Harness()
        unknown.connect()
        unknown.send(#"{"id":2,"teleport":{}}"#)
        #expect(unknown.transport.closes == [.badRequest])
        let binary = Harness()
        binary.session.receive(Array(#"{"id":1,"connect":{}}"#.utf8), binary: true)
        #expect(binary.transport.closes == [.badRequest])
    }

    @Test func batchedCommandsAreAnsweredInOrderAndRepliesBatched() throws {
        let harness = Harness()
        harness.send(#"{"id":1,"connect":{}}"# + "\n" + #"{"id":2,"subscribe":{"channel":"a"}}"# + "\n" + #"{"id":3,"subscribe":{"channel":"b"}}"# + "\n")
        guard case .text(let frame) = try #require(harness.session.nextFrame()) else {
            Issue.record("expected a text frame")
            return
        }
        let lines = frame.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONParser.parse($0) }
        #expect(lines.map { $0["id"] } == [1, 2, 3], "one frame, three replies")
        #expect(harness.transport.closes.isEmpty)
    }

    @Test func subscribeErrorsCarryCentrifugoCodes() throws {
        let harness = Harness(configuration: SessionConfiguration(maxSubscriptions: 2))
        harness.connect()
        harness.send(#"{"id":2,"subscribe":{"channel":"a"}}"#)
        harness.send(#"{"id":3,"subscribe":{"channel":"a"}}"#)
        harness.send(#"{"id":4,"subscribe":{"channel":"b"}}"#)
        harness.send(#"{"id":5,"subscribe":{"channel":"c"}}"#)
        harness.send(#"{"id":6,"subscribe":{"channel":"caf\#u{E9}"}}"#)
        harness.send(#"{"id":7,"publish":{"channel":"a","data":{}}}"#)
        harness.send(#"{"id":8,"history":{"channel":"zzz"}}"#)
        harness.send(#"{"id":9,"rpc":{"method":"anything"}}"#)
        let replies = harness.read()
        #expect(replies.map { $0["error"]?["code"] } == [nil, 105, nil, 106, 107, 103, 103, 104])
        #expect(replies.allSatisfy { $0["error"] == nil || $0["error"]?["message"]?.stringValue?.isEmpty == false })
        harness.send(#"{"id":10,"subscribe":{"channel":""}}"#)
        #expect(harness.transport.closes == [.badRequest])
    }

    @Test func unsubscribeIsAlwaysAnswered() {
        let harness = Harness()
        harness.connect()
        harness.send(#"{"id":2,"unsubscribe":{"channel":"never"}}"#)
        #expect(harness.read().first?["unsubscribe"] == .object(JSONObject()))
    }

    @Test func publicationsArriveAfterTheSubscribeReplyInOffsetOrder() throws {
        let harness = Harness()
        harness.connect()
        harness.hub.publishStream(channel: "stream_x", epoch: "E1", seq: 1, data: Array(#"{"n":1}"#.utf8))
        harness.send(#"{"id":2,"subscribe":{"channel":"stream_x","recover":true,"offset":0,"epoch":""}}"#)
        harness.hub.publishStream(channel: "stream_x", epoch: "E1", seq: 2, data: Array(#"{"n":2}"#.utf8))
        harness.hub.publishStream(channel: "stream_x", epoch: "E1", seq: 2, data: Array(#"{"n":2}"#.utf8))
        let lines = harness.read()
        #expect(lines.count == 2, "a repeated seq is published once")
        let subscribe = try #require(lines.first?["subscribe"])
        #expect(subscribe["recovered"] == true && subscribe["was_recovering"] == true && subscribe["epoch"] == "E1")
        #expect(subscribe["publications"]?.arrayValue?.map { $0["offset"] } == [1])
        #expect(lines[1]["push"]?["pub"]?["offset"] == 2)
        #expect(lines[1]["push"]?["channel"] == "stream_x")
    }

    @Test func aSubscriberThatCameBeforeTheStreamRecoversUnderTheStreamsEpoch() throws {
        let harness = Harness()
        harness.connect()
        harness.send(#"{"id":2,"subscribe":{"channel":"stream_early","recover":true}}"#)
        let early = try #require(harness.read().first?["subscribe"]?["epoch"]?.stringValue)
        for seq in 1...3 { harness.hub.publishStream(channel: "stream_early", epoch: "RUN", seq: UInt64(seq), data: Array("{}".utf8)) }
        #expect(harness.read().count == 3)
        // Its reconnect names the empty epoch it was given: nothing was published under that one.
        let again = Harness(hub: harness.hub)
        again.connect()
        again.send(#"{"id":2,"subscribe":{"channel":"stream_early","recover":true,"offset":1,"epoch":"\#(early)"}}"#)
        let subscribe = try #require(again.read().first?["subscribe"])
        #expect(subscribe["recovered"] == true)
        #expect(subscribe["publications"]?.arrayValue?.map { $0["offset"] } == [2, 3])
    }

    @Test func aRerunIsANewEpochAndOldPositionsDoNotRecover() throws {
        let harness = Harness()
        harness.connect()
        for seq in 1...3 { harness.hub.publishStream(channel: "stream_r", epoch: "FIRST", seq: UInt64(seq), data: Array("{}".utf8)) }
        harness.hub.publishStream(channel: "stream_r", epoch: "SECOND", seq: 1, data: Array("{}".utf8))
        harness.send(#"{"id":2,"subscribe":{"channel":"stream_r","recover":true,"offset":3,"epoch":"FIRST"}}"#)
        harness.send(#"{"id":3,"subscribe":{"channel":"stream_r2","recover":true,"offset":3,"epoch":"NOPE","flag":3}}"#)
        let replies = harness.read()
        #expect(replies[0]["subscribe"]?["recovered"] == nil)
        #expect(replies[0]["subscribe"]?["epoch"] == "SECOND")
        #expect(replies[0]["subscribe"]?["publications"] == nil, "a partial catch-up is never returned")
        #expect(replies[1]["error"]?["code"] == 112, "flag bit 2 asks for an error instead")
    }

    @Test func theRecoveryLimitBoundsWhatOneSubscribeReturns() throws {
        let hub = ChannelHub(configuration: .init(historySize: 100, recoveryLimit: 5))
        let harness = Harness(hub: hub)
        harness.connect()
        for seq in 1...8 { hub.publishStream(channel: "stream_l", epoch: "E", seq: UInt64(seq), data: Array("{}".utf8)) }
        harness.send(#"{"id":2,"subscribe":{"channel":"stream_l","recover":true,"offset":0,"epoch":""}}"#)
        harness.send(#"{"id":3,"subscribe":{"channel":"stream_l2","recover":true,"offset":0,"epoch":""}}"#)
        harness.send(#"{"id":4,"unsubscribe":{"channel":"stream_l"}}"#)
        harness.send(#"{"id":5,"subscribe":{"channel":"stream_l","recover":true,"offset":4,"epoch":"E"}}"#)
        let replies = harness.read()
        #expect(replies[0]["subscribe"]?["recovered"] == nil, "8 missed, limit 5")
        #expect(replies[1]["subscribe"]?["recovered"] == true, "an empty channel at offset 0 is recovered")
        #expect(replies[3]["subscribe"]?["publications"]?.arrayValue?.count == 4)
    }

    @Test func pingsGoOutOnAFixedTimerAndAMissingPongCloses() async throws {
        let harness = Harness(configuration: SessionConfiguration(pingInterval: .milliseconds(30), pongTimeout: .milliseconds(20)))
        harness.connect()
        try await Task.sleep(for: .milliseconds(40))
        harness.session.tick()
        #expect(harness.read().map(\.self) == [.object(JSONObject())], "a ping is {}")
        harness.send("{}")
        try await Task.sleep(for: .milliseconds(35))
        harness.session.tick()
        #expect(harness.read().count == 1, "the next ping, on time")
        #expect(harness.transport.closes.isEmpty)
        try await Task.sleep(for: .milliseconds(25))
        harness.session.tick()
        #expect(harness.transport.closes == [.noPong])
    }

    @Test func aConnectionThatNeverConnectsIsStale() async throws {
        let harness = Harness(configuration: SessionConfiguration(connectTimeout: .milliseconds(20)))
        try await Task.sleep(for: .milliseconds(30))
        harness.session.tick()
        #expect(harness.transport.closes == [.stale])
    }

    @Test func aSlowClientGetsMergedDeltasThenIsClosed() throws {
        let harness = Harness(configuration: SessionConfiguration(maxQueuedBytes: 64 << 10, maxQueuedMessages: 100))
        harness.connect()
        harness.send(#"{"id":2,"subscribe":{"channel":"stream_s"}}"#)
        _ = harness.read()
        func delta(_ seq: Int) -> (UInt64, [UInt8], StreamDelta) {
            let text = "t\(seq) "
            let data = Array(#"{"uid":"s","seq":\#(seq),"type":"delta","text":"\#(text)","done":false}"#.utf8)
            return (UInt64(seq), data, StreamDelta(uid: "s", from: seq, to: seq, text: text))
        }
        for seq in 1...200 {
            let (offset, data, piece) = delta(seq)
            harness.hub.publishStream(channel: "stream_s", epoch: "E", seq: offset, data: data, delta: piece)
        }
        #expect(harness.transport.closes.isEmpty, "merging keeps it under the bound")
        let pubs = harness.read().compactMap { $0["push"]?["pub"] }
        #expect(pubs.count < 200)
        var covered: [Int] = []
        var text = ""
        for pub in pubs {
            let data = try #require(pub["data"])
            let from = data["seq_from"]?.intValue ?? data["seq"]?.intValue ?? -1
            let to = data["seq_to"]?.intValue ?? data["seq"]?.intValue ?? -1
            #expect(pub["offset"]?.intValue == to)
            covered += Array(from...to)
            text += data["text"]?.stringValue ?? ""
        }
        #expect(covered == Array(1...200), "every seq once, in order")
        #expect(text == (1...200).map { "t\($0) " }.joined())
        // Now stuffed with publications that cannot merge.
        for seq in 201...400 { harness.hub.publishStream(channel: "stream_s", epoch: "E", seq: UInt64(seq), data: Array("{}".utf8)) }
        #expect(harness.transport.closes == [.slow])
    }

    @Test func aClientThatAsksAndNeverReadsIsClosedAsSlow() {
        let harness = Harness(configuration: SessionConfiguration(maxQueuedBytes: 64 << 10, maxQueuedMessages: 100))
        harness.connect()
        let data = Array(#"{"text":"\#(String(repeating: "x", count: 200))"}"#.utf8)
        for _ in 1...50 { harness.hub.publish(channel: "big", data: data) }
        harness.send(#"{"id":2,"subscribe":{"channel":"big"}}"#)
        for id in 3...20 {
            harness.send(#"{"id":\#(id),"history":{"channel":"big","limit":-1}}"#)
            if !harness.transport.closes.isEmpty { break }
        }
        #expect(harness.transport.closes == [.slow], "each reply is about 12 KB: the 64 KiB bound is passed within a few")
    }
}
