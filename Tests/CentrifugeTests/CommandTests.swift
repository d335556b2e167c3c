import BridgeCore
import Testing

@testable import Centrifuge

@Suite("Client commands")
struct CommandTests {
    func parse(_ text: String) throws -> ClientCommand {
        try ClientCommand.parse(Array(text.utf8))
    }

    @Test func readsWhatTheSDKsSend() throws {
        #expect(try parse(#"{"id":1,"connect":{"name":"python"}}"#).request == .connect(try ConnectRequestFixture.named("python")))
        let subscribe = try parse(#"{"id":4,"subscribe":{"channel":"stream_late","recoverable":true,"recover":true,"epoch":"abcd","offset":0,"flag":3}}"#)
        #expect(subscribe.id == 4)
        guard case .subscribe(let request) = subscribe.request else {
            Issue.record("not a subscribe")
            return
        }
        #expect(request.channel == "stream_late" && request.recover && request.epoch == "abcd" && request.offset == 0)
        #expect(request.rejectsUnrecovered)
        #expect(try parse(#"{"id":3,"unsubscribe":{"channel":"c"}}"#).request == .unsubscribe(channel: "c"))
        #expect(try parse("{}").request == .pong)
        #expect(try parse(#"{"id":9,"presence_stats":{"channel":"c"}}"#).request == .presenceStats(channel: "c"))
        #expect(try parse(#"{"id":10,"rpc":{"method":"cancel","data":{"uid":"u"}}}"#).request == .rpc(method: "cancel", data: ["uid": "u"]))
        #expect(try parse(#"{"id":11,"connect":{},"tf":1}"#).id == 11)
    }

    @Test(arguments: ["nope", "[1]", #"{"id":-1,"connect":{}}"#, #"{"id":"1","connect":{}}"#, #"{"id":1,"subscribe":{"channel":5}}"#,
        #"{"id":1,"subscribe":"x"}"#, #"{"id":1,"subscribe":{"channel":"c","offset":-3}}"#])
    func refusesWhatIsNotACommand(_ text: String) {
        #expect(throws: Disconnect.badRequest) { try parse(text) }
    }
}

enum ConnectRequestFixture {
    static func named(_ name: String) throws -> ConnectRequest {
        guard case .connect(let request) = try ClientCommand.parse(Array(#"{"id":1,"connect":{"name":"\#(name)"}}"#.utf8)).request else {
            throw Disconnect.badRequest
        }
        return request
    }
}
