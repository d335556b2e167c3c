import OpenAIWire
import Testing

@Suite("SSEDecoder")
struct SSEDecoderTests {
    private func decode(_ text: String, configuration: SSEDecoder.Configuration = .init()) throws -> [SSEMessage] {
        var decoder = SSEDecoder(configuration: configuration)
        return try decoder.feed(Array(text.utf8)) + decoder.finish()
    }

    @Test("spec example: multi-line data joined by LF")
    func multiLineData() throws {
        #expect(try decode("data: YHOO\ndata: +2\ndata: 10\n\n") == [SSEMessage(data: "YHOO\n+2\n10")])
    }

    @Test("spec example: comments, ids that persist, an empty id, and the one optional space")
    func idsAndSpaces() throws {
        let stream = ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"
        #expect(
            try decode(stream) == [
                SSEMessage(data: "first event", id: "1"), SSEMessage(data: "second event", id: ""),
                SSEMessage(data: " third event", id: ""),
            ])
    }

    @Test("spec example: a bare `data` field, empty data, and an unterminated event dropped")
    func emptyData() throws {
        #expect(try decode("data\n\ndata\ndata\n\ndata:") == [SSEMessage(data: ""), SSEMessage(data: "\n")])
    }

    @Test("spec example: `data:test` and `data: test` are the same")
    func optionalSpace() throws {
        #expect(try decode("data:test\n\ndata: test\n\n") == [SSEMessage(data: "test"), SSEMessage(data: "test")])
    }

    @Test("event names, blank lines without data, unknown fields, NUL in id")
    func fields() throws {
        let stream = "event: update\ndata: a\n\nevent: ignored\n\nfoo: bar\ndata: b\n\nid: x\u{0}y\ndata: c\n\n"
        #expect(
            try decode(stream) == [
                SSEMessage(event: "update", data: "a"), SSEMessage(data: "b"), SSEMessage(data: "c"),
            ])
    }

    @Test("retry takes digits only")
    func retry() throws {
        var decoder = SSEDecoder()
        _ = try decoder.feed(Array("retry: 2500\n\nretry: 12a\n\nretry:\n\n".utf8))
        #expect(decoder.retry == 2500)
    }

    @Test("CR split from its LF is one line end, not two")
    func splitCRLF() throws {
        var decoder = SSEDecoder()
        #expect(try decoder.feed(Array("data: a\r".utf8)) == [])
        #expect(try decoder.feed(Array("\ndata: b\r".utf8)) == [])
        #expect(try decoder.feed(Array("\n\r".utf8)) == [SSEMessage(data: "a\nb")])
        #expect(try decoder.feed(Array("\n".utf8)) == [])
        #expect(try decoder.feed(Array("data: c\r\r".utf8)) == [SSEMessage(data: "c")])
    }

    @Test("a BOM is skipped once, even split; a second one is content")
    func byteOrderMark() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        var decoder = SSEDecoder()
        #expect(try decoder.feed([0xEF]) == [])
        #expect(try decoder.feed([0xBB]) == [])
        #expect(try decoder.feed([0xBF] + Array("data: x\n\n".utf8)) == [SSEMessage(data: "x")])
        // After the start a BOM is part of the field name, which makes the field unknown.
        #expect(try decoder.feed(bom + Array("data: y\n\n".utf8)) == [])
    }

    @Test("bytes that start like a BOM but are not one are kept")
    func notAByteOrderMark() throws {
        var decoder = SSEDecoder()
        #expect(try decoder.feed([0xEF, 0xBB]) == [])
        let messages = try decoder.feed([0x41] + Array(": comment\ndata: z\n\n".utf8))
        #expect(messages == [SSEMessage(data: "z")])
        #expect(decoder.commentCount == 0)
    }

    @Test("a UTF-8 character split between reads decodes whole; invalid bytes become U+FFFD")
    func utf8() throws {
        var decoder = SSEDecoder()
        let bytes = Array("data: é👋\n\n".utf8)
        var messages: [SSEMessage] = []
        for byte in bytes { messages += try decoder.feed([byte]) }
        #expect(messages == [SSEMessage(data: "é👋")])
        #expect(try decoder.feed(Array("data: ".utf8) + [0xFF, 0x41] + Array("\n\n".utf8)) == [SSEMessage(data: "\u{FFFD}A")])
    }

    @Test("comments are counted")
    func comments() throws {
        var decoder = SSEDecoder()
        _ = try decoder.feed(Array(": ping\n\n:\n: keep-alive\ndata: x\n\n".utf8))
        #expect(decoder.commentCount == 3)
    }

    @Test("a line longer than the bound is an error, split or not, and stays one")
    func lineBound() throws {
        let configuration = SSEDecoder.Configuration(maximumLineLength: 16)
        var exact = SSEDecoder(configuration: configuration)
        #expect(try exact.feed(Array("data: 0123456789\n\n".utf8)) == [SSEMessage(data: "0123456789")])

        var whole = SSEDecoder(configuration: configuration)
        #expect(throws: SSEDecoder.Failure(kind: .lineTooLong, limit: 16)) {
            try whole.feed(Array("data: 01234567890\n\n".utf8))
        }
        var pieces = SSEDecoder(configuration: configuration)
        _ = try pieces.feed(Array("data: 01234".utf8))
        _ = try pieces.feed(Array("56789".utf8))
        #expect(throws: SSEDecoder.Failure(kind: .lineTooLong, limit: 16)) { try pieces.feed(Array("0".utf8)) }
        #expect(throws: SSEDecoder.Failure.self) { try pieces.feed(Array("\n\n".utf8)) }
    }

    @Test("a message whose data lines add up past the bound is an error")
    func eventBound() throws {
        var decoder = SSEDecoder(configuration: .init(maximumLineLength: 64, maximumEventLength: 10))
        #expect(throws: SSEDecoder.Failure(kind: .eventTooLong, limit: 10)) {
            try decoder.feed(Array("data: 1234\ndata: 5678\ndata: 9\n\n".utf8))
        }
    }

    @Test("the end of input drops an unterminated event, or dispatches it when configured")
    func finish() throws {
        var strict = SSEDecoder()
        #expect(try strict.feed(Array("data: a\n\ndata: b\n".utf8)) == [SSEMessage(data: "a")])
        #expect(strict.finish() == [])

        var lenient = SSEDecoder(configuration: .init(dispatchesUnterminatedEventAtEnd: true))
        #expect(try lenient.feed(Array("data: a\n\nid: 7\ndata: [DO".utf8)) == [SSEMessage(data: "a")])
        #expect(try lenient.feed(Array("NE]".utf8)) == [])
        #expect(lenient.finish() == [SSEMessage(data: "[DONE]", id: "7")])
        // Ready for the next connection; the last event id survives, as the spec wants.
        #expect(try lenient.feed(Array("data: c\n\n".utf8)) == [SSEMessage(data: "c", id: "7")])
    }
}
