/// A complete HTTP request, copied out of libwebsockets so it can travel to any thread.
public struct HTTPRequest: Sendable {
    public let method: String
    /// The decoded path, without the query string.
    public let path: String
    /// Query items in order; lws has already percent-decoded them.
    public let query: [(name: String, value: String)]
    /// Header names in lower case.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public init(
        method: String, path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }

    public func queryItem(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// The media type of the body without parameters, lower case ("application/json").
    public var mediaType: String? {
        guard let contentType = header("content-type") else { return nil }
        let type = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return type.filter { $0 != " " && $0 != "\t" }.lowercased()
    }
}

