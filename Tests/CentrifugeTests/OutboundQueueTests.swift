import BridgeCore
import Testing

@testable import Centrifuge

@Suite("Outbound queue")
struct OutboundQueueTests {
    @Test func mergedDeltasStayBoundedInSizeAndCoverEverySeqOnce() throws {
        var queue = OutboundQueue()
        let text = String(repeating: "y", count: 1000)
        for seq in 1...100 {
            let delta = StreamDelta(uid: "u", from: seq, to: seq, text: text)
            let data = Array(#"{"uid":"u","seq":\#(seq),"type":"delta","text":"\#(text)","done":false}"#.utf8)
            queue.append(Publication(channel: "stream_u", offset: UInt64(seq), data: data, delta: delta), mergingDeltas: true)
        }
        var covered: [Int] = []
        var largest = 0
        while let frame = queue.takeFrame(limit: 1) {
            let line = try JSONParser.parse(frame)
            largest = max(largest, frame.count)
            let data = try #require(line["push"]?["pub"]?["data"])
            let from = data["seq_from"]?.intValue ?? data["seq"]?.intValue ?? -1
            let to = data["seq_to"]?.intValue ?? data["seq"]?.intValue ?? -1
            covered += Array(from...to)
        }
        #expect(covered == Array(1...100))
        #expect(largest < OutboundQueue.mergedPublicationBytes + 1200, "one token past the bound at most")
        #expect(largest > 8 << 10, "but merged it is")
    }
}
