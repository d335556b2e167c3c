/// One HTTP request for `CurlMultiLoop`. A plain value: it crosses threads freely and is turned into
/// a libcurl easy handle only on the loop thread.
public struct CurlRequest: Sendable {
    /// Absolute `http://` or `https://` URL. Other schemes are refused by the transfer.
    public var url: String
    /// The request method, sent as given ("GET", "POST", "DELETE"...). "HEAD" asks for no body.
    public var method: String
    /// Extra request headers, in order. An empty value sends the header with no value.
    public var headers: [(name: String, value: String)]
    /// The request body. Sent with `Content-Length` (no `Expect: 100-continue` round trip).
    public var body: [UInt8]
    /// Time allowed to establish the connection (TCP and TLS). `nil`: libcurl's default (300 s).
    public var connectTimeout: Duration?
    /// Time allowed for the whole transfer, body included. `nil`: no limit. Streams usually leave
    /// this unset and use `CurlMultiLoop.setDeadline` for first-byte and idle limits instead.
    public var totalTimeout: Duration?

    public init(
        url: String,
        method: String = "GET",
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        connectTimeout: Duration? = nil,
        totalTimeout: Duration? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
    }
}

/// A whole response, as returned by `CurlMultiLoop.perform`.
public struct CurlResponse: Sendable {
    public var status: Int
    /// Headers of the final response head, in the order received.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header with this name, compared case-insensitively (HTTP header names are).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}
