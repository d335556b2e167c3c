import Testing

@testable import BridgeCore

@Suite("Chat request validation")
struct ChatRequestTests {
    private func parse(_ text: String) throws(RequestError) -> ChatRequest {
        try ChatRequest.parse(bytes: Array(text.utf8))
    }

    @Test func acceptsAMinimalRequestAndStripsBridgeFields() throws {
        let request = try parse(
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"uid":"abc-1","username":"ann","temperature":0.2}"#)
        #expect(request.model == "m")
        #expect(request.stream)
        #expect(request.uid == "abc-1")
        #expect(request.username == "ann")
        #expect(request.body["uid"] == nil)
        #expect(request.body["username"] == nil)
        #expect(request.body["temperature"] == .number(0.2))
    }

    @Test(arguments: [
        ("not json", "invalid_json"),
        ("[1]", "invalid_json"),
        (#"{"model":"m"}"#, "missing_field"),
        (#"{"messages":[]}"#, "invalid_value"),
        (#"{"messages":"hi"}"#, "invalid_type"),
        (#"{"messages":[1]}"#, "invalid_type"),
        (#"{"messages":[{"content":"x"}]}"#, "missing_field"),
        (#"{"messages":[{"role":5}]}"#, "invalid_type"),
        (#"{"messages":[{"role":"user"}],"stream":"yes"}"#, "invalid_type"),
        (#"{"messages":[{"role":"user"}],"model":7}"#, "invalid_type"),
        (#"{"messages":[{"role":"user"}],"uid":"has space"}"#, "invalid_value"),
        (#"{"messages":[{"role":"user"}],"uid":""}"#, "invalid_value"),
        (#"{"messages":[{"role":"user"}],"uid":3}"#, "invalid_type"),
        (#"{"messages":[{"role":"user"}],"stream_options":{"include_usage":"y"}}"#, "invalid_type"),
    ])
    func refusesBadRequests(_ body: String, _ code: String) {
        #expect(throws: RequestError.self) { try parse(body) }
        do {
            _ = try parse(body)
        } catch {
            #expect(error.code == code)
            #expect(error.kind == .invalid)
        }
    }

    @Test func refusesMoreThanOneChoiceAsUnsupported() {
        do {
            _ = try parse(#"{"messages":[{"role":"user"}],"n":2}"#)
            Issue.record("n=2 was accepted")
        } catch {
            #expect(error.kind == .unsupported)
        }
    }

    @Test func uidRules() {
        #expect(StreamID.isValid("a"))
        #expect(StreamID.isValid(String(repeating: "x", count: 128)))
        #expect(!StreamID.isValid(String(repeating: "x", count: 129)))
        #expect(StreamID.isValid("A-z_0.9:x"))
        #expect(!StreamID.isValid("a/b"))
        #expect(!StreamID.isValid("é"))
        #expect(StreamID.isValid(StreamID.generate()))
        #expect(StreamID.generateEpoch().count == 8)
        #expect(StreamID.generateEpoch() != StreamID.generateEpoch())
    }

    @Test func generatedIDsAreVersion4UUIDs() {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let uid = StreamID.generate()
            let parts = uid.split(separator: "-")
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
            #expect(parts[2].first == "4")
            #expect("89ab".contains(parts[3].first ?? "x"))
            #expect(uid == uid.lowercased())
            seen.insert(uid)
        }
        #expect(seen.count == 1000)
    }
}
