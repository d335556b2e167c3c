import BridgeCore
import Curl
import Testing

@testable import CentrifugoSink

@Suite("Centrifugo sink: requests and replies")
struct CentrifugoWireTests {
    private func publications(_ count: Int) -> [CentrifugoPublication] {
        (1...count).map { CentrifugoPublication(StreamEvent(uid: "u", seq: $0, kind: .delta(text: "t\($0)")), epoch: "E") }
    }

    private func json(_ bytes: [UInt8]) throws -> JSONObject {
        try #require(try JSONParser.parse(bytes).objectValue)
    }

    @Test func oneV5PublicationGoesToPublishSeveralToBatch() throws {
        let encoder = CentrifugoRequestEncoder(configuration: CentrifugoSinkConfiguration(apiURL: "http://c:8000/api/", apiKey: "k"))
        let single = encoder.request(publications(1), channel: "stream_u")
        #expect(single.url == "http://c:8000/api/publish" && single.headers.contains { $0 == ("x-api-key", "k") })
        let body = try json(single.body)
        #expect(body["channel"]?.stringValue == "stream_u" && body["idempotency_key"]?.stringValue == "u:E:1")
        #expect(body["data"]?.objectValue?["seq"]?.intValue == 1)
        let batch = encoder.request(publications(3), channel: "stream_u")
        #expect(batch.url == "http://c:8000/api/batch")
        let commands = try #require(try json(batch.body)["commands"]?.arrayValue)
        #expect(commands.compactMap { $0.objectValue?["publish"]?.objectValue?["idempotency_key"]?.stringValue } == ["u:E:1", "u:E:2", "u:E:3"])
    }

    @Test func legacyIsOneMethodParamsLinePerPublication() throws {
        let encoder = CentrifugoRequestEncoder(
            configuration: CentrifugoSinkConfiguration(apiURL: "http://c:8000/api", apiKey: "k", style: .legacy))
        let request = encoder.request(publications(2), channel: "ch")
        #expect(request.url == "http://c:8000/api" && request.headers.contains { $0 == ("authorization", "apikey k") })
        let lines = request.body.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == 2)
        let first = try json(Array(lines[0]))
        #expect(first["method"]?.stringValue == "publish" && first["params"]?.objectValue?["channel"]?.stringValue == "ch")
    }

    @Test func repliesAreReadAsCentrifugoWritesThem() {
        func reply(_ status: Int, _ body: String, _ style: CentrifugoSinkConfiguration.APIStyle = .v5, count: Int = 1) -> CentrifugoReply {
            CentrifugoReply.read(CurlResponse(status: status, headers: [], body: Array(body.utf8)), style: style, count: count)
        }
        #expect(reply(200, #"{"result":{}}"#) == .accepted)
        #expect(reply(200, #"{"replies":[{"publish":{}},{"publish":{}}]}"#, count: 2) == .accepted)
        #expect(reply(200, "{\"result\":{}}\n{\"result\":{}}", .legacy, count: 2) == .accepted)
        guard case .refused(_, true) = reply(200, #"{"error":{"code":100,"message":"internal"}}"#) else {
            Issue.record("an error body is retried")
            return
        }
        guard case .refused(_, true) = reply(200, #"{"replies":[{"publish":{}},{"error":{"code":100,"message":"x"}}]}"#, count: 2),
            case .refused(_, true) = reply(200, #"{"replies":[{"publish":{}}]}"#, count: 2),
            case .refused(_, true) = reply(503, ""), case .refused(_, true) = reply(200, "not json"),
            case .refused(_, false) = reply(401, ""), case .refused(_, false) = reply(404, ""),
            case .refused(_, false) = reply(400, "bad"), case .refused(_, false) = reply(200, #"{"error":{"code":102,"message":"unknown channel"}}"#)
        else {
            Issue.record("a reply was misread")
            return
        }
    }

    @Test func mergedDeltasCarryTheirRangeAndAKeyOfTheirOwn() throws {
        let first = CentrifugoPublication(StreamEvent(uid: "u", seq: 4, kind: .delta(text: "a")), epoch: "E")
        let merged = try #require(first.merged(with: StreamEvent(uid: "u", seq: 5, kind: .delta(text: "b")), uid: "u", epoch: "E"))
        #expect(merged.idempotencyKey == "u:E:4-5")
        let data = try json(merged.data)
        #expect(data["seq_from"]?.intValue == 4 && data["seq_to"]?.intValue == 5 && data["text"]?.stringValue == "ab")
        #expect(first.merged(with: StreamEvent(uid: "u", seq: 7, kind: .delta(text: "c")), uid: "u", epoch: "E") == nil, "a gap")
        #expect(first.merged(with: StreamEvent(uid: "u", seq: 5, kind: .cancelled), uid: "u", epoch: "E") == nil)
    }

    @Test func aMergedPublicationStopsGrowingAt16KiB() throws {
        let piece = String(repeating: "x", count: 1000)
        var merged = CentrifugoPublication(StreamEvent(uid: "u", seq: 1, kind: .delta(text: piece)), epoch: "E")
        var seq = 2
        while let next = merged.merged(with: StreamEvent(uid: "u", seq: seq, kind: .delta(text: piece)), uid: "u", epoch: "E") {
            merged = next
            seq += 1
        }
        let text = try #require(merged.delta?.text)
        #expect(text.utf8.count >= CentrifugoPublication.mergedTextLimit && text.utf8.count < CentrifugoPublication.mergedTextLimit + 1000)
    }

    @Test func backoffDoublesUpToItsCeiling() {
        let configuration = CentrifugoSinkConfiguration(
            apiURL: "http://c", retryBackoff: .milliseconds(100), retryBackoffMax: .milliseconds(350))
        #expect((1...4).map { configuration.backoff(before: $0) } == [.milliseconds(100), .milliseconds(200), .milliseconds(350), .milliseconds(350)])
        #expect(configuration.channel(for: "abc") == "stream_abc")
    }
}
