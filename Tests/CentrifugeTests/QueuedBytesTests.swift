import Testing

@testable import Centrifuge

@Suite("How far behind a client is")
struct QueuedBytesTests {
    @Test func queuedBytesGrowWithUnwrittenOutputAndFallToZeroOnceWritten() {
        let harness = Harness()
        harness.connect()
        harness.send(#"{"id":2,"subscribe":{"channel":"news"}}"#)
        _ = harness.read()
        #expect(harness.session.queuedBytes == 0)
        for index in 1...3 { harness.hub.publish(channel: "news", data: Array(#"{"n":\#(index)}"#.utf8)) }
        let behind = harness.session.queuedBytes
        #expect(behind > 3 * 7, "three pushes waiting")
        #expect(harness.read().count == 3)
        #expect(harness.session.queuedBytes == 0)
    }
}
