/// A response head: status and headers (content-type and content-length are added by the server).
public struct HTTPResponseHead: Sendable {
    public var status: Int
    public var contentType: String
    public var headers: [(name: String, value: String)]

    public init(status: Int, contentType: String = "application/json", headers: [(name: String, value: String)] = []) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
    }
}

/// A whole response with its body.
public struct HTTPResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: [UInt8]

    public init(head: HTTPResponseHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }

    public init(status: Int, contentType: String = "application/json", headers: [(name: String, value: String)] = [], body: [UInt8]) {
        self.head = HTTPResponseHead(status: status, contentType: contentType, headers: headers)
        self.body = body
    }

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", headers: [(name: String, value: String)] = [], text: String) {
        self.init(status: status, contentType: contentType, headers: headers, body: Array(text.utf8))
    }
}

/// How often a streaming response writes something while its producer is silent, and what,
/// so proxies with idle timeouts keep the connection (an SSE comment line, say).
public struct StreamHeartbeat: Sendable {
    public var interval: Duration
    public var bytes: [UInt8]

    public init(interval: Duration, bytes: [UInt8]) {
        self.interval = interval
        self.bytes = bytes
    }
}
