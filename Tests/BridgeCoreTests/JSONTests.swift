import Testing

@testable import BridgeCore

@Suite("JSON parser and writer")
struct JSONTests {
    @Test func parsesEveryKind() throws {
        let value = try JSONParser.parse(#"{"a":[1,-2.5e3,true,false,null,"x\n\u00e9\ud83d\ude00"],"b":{}}"#)
        #expect(value["a"]?.arrayValue?.count == 6)
        #expect(value["a"]?.arrayValue?[0] == .integer(1))
        #expect(value["a"]?.arrayValue?[1] == .number(-2500))
        #expect(value["a"]?.arrayValue?[5] == .string("x\né😀"))
        #expect(value["b"] == .object(JSONObject()))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "01", "1.", "-", "\"abc", "tru", "{\"a\":1}x", "\"\\x\"",
        "\"\u{01}\"", "\"\\ud800\"", "[1 2]", "{'a':1}", "1e999", "[-2.5E400]",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
    }

    @Test func keepsLargeIntegersExact() throws {
        #expect(try JSONParser.parse("9007199254740993") == .integer(9_007_199_254_740_993))
    }

    @Test func writerRoundTrips() throws {
        let original: JSONValue = [
            "text": "quote \" backslash \\ newline \n tab \t control \u{01} emoji 😀",
            "list": [1, 2.5, true, nil], "nested": ["k": "v"],
        ]
        let reparsed = try JSONParser.parse(original.jsonString)
        #expect(reparsed == original)
        #expect(!original.jsonString.contains("\n"))
    }

    @Test func objectKeepsOrderAndReplaces() {
        var object = JSONObject()
        object["z"] = 1
        object["a"] = 2
        object["z"] = 3
        #expect(object.keys == ["z", "a"])
        #expect(object["z"] == 3)
        object["z"] = nil
        #expect(object.keys == ["a"])
    }
}
