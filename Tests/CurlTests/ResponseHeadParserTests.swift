@testable import Curl
import Testing

/// Header lines as libcurl hands them over, one call each with its CRLF.
private func parse(_ lines: [String]) -> (heads: [ResponseHeadParser.Head], parser: ResponseHeadParser) {
    var parser = ResponseHeadParser()
    var heads: [ResponseHeadParser.Head] = []
    for line in lines {
        var bytes = Array(line.utf8)
        if let head = bytes.withUnsafeMutableBytes({ parser.consume(UnsafeRawBufferPointer($0)) }) { heads.append(head) }
    }
    return (heads, parser)
}

@Test func finalHeadWithTrimmedNamesAndValues() {
    let (heads, parser) = parse([
        "HTTP/1.1 200 OK\r\n", "Content-Type:  text/event-stream \r\n", "X-Empty:\r\n", "Retry-After:\t7\r\n", "\r\n",
    ])
    #expect(heads.count == 1)
    #expect(heads.first?.status == 200)
    #expect(heads.first?.headers.map(\.name) == ["Content-Type", "X-Empty", "Retry-After"])
    #expect(heads.first?.headers.map(\.value) == ["text/event-stream", "", "7"])
    #expect(parser.isComplete)
}

@Test func interimHeadsAreDroppedAndTrailersIgnored() {
    let (heads, _) = parse([
        "HTTP/1.1 100 Continue\r\n", "\r\n", "HTTP/1.1 103 Early Hints\r\n", "Link: </a>\r\n", "\r\n",
        "HTTP/2 429 \r\n", "retry-after: 2\r\n", "\r\n", "x-trailer: late\r\n", "\r\n",
    ])
    #expect(heads.count == 1)
    #expect(heads.first?.status == 429)
    #expect(heads.first?.headers.map(\.name) == ["retry-after"])
}

@Test func foldedLineContinuesThePreviousValue() {
    let (heads, _) = parse(["HTTP/1.1 500 Oops\r\n", "X-Note: first\r\n", "\t second\r\n", "\r\n"])
    #expect(heads.first?.headers.map(\.value) == ["first second"])
}

@Test func statusLineWithoutANumberLeavesTheStatusUnknown() {
    var (heads, parser) = parse(["HTTP/1.1 abc\r\n", "A: b\r\n", "\r\n"])
    #expect(heads.isEmpty)
    #expect(!parser.isComplete)
    #expect(parser.forceComplete(status: 502).status == 502)
    (heads, parser) = parse(["HTTP/1.1  204\r\n", "\r\n"])
    #expect(heads.first?.status == 204)
}
