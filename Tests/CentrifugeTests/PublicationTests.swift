import Testing

@testable import Centrifuge

@Suite("Publications")
struct PublicationTests {
    @Test func aPushBuiltOnDemandIsTheOneBuiltAtPublishTime() throws {
        let data = Array(#"{"uid":"u","seq":7,"type":"delta","text":"héllo \"x\""}"#.utf8)
        let tags = [(key: "k", value: "v\n")]
        let eager = Publication(channel: "stream_u", offset: 7, data: data, tags: tags, encodingPush: true)
        let lazy = Publication(channel: "stream_u", offset: 7, data: data, tags: tags, encodingPush: false)
        #expect(lazy.push == eager.push)
        let text = try #require(String(validating: eager.push, as: UTF8.self))
        #expect(text == #"{"push":{"channel":"stream_u","pub":{"data":\#(String(decoding: data, as: UTF8.self)),"offset":7,"tags":{"k":"v\n"}}}}"#)
        #expect(lazy.retainedBytes < eager.retainedBytes, "history without subscribers keeps no second copy")
    }
}
