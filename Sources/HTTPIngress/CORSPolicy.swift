import WebServer

/// Cross-origin rules for browsers calling the API from another origin.
struct CORSPolicy: Sendable {
    let allowedOrigins: [String]

    private var allowsAny: Bool { allowedOrigins.contains("*") }

    func allows(origin: String) -> Bool {
        allowsAny || allowedOrigins.contains(origin)
    }

    /// Headers for a normal response to a request carrying `Origin`.
    func headers(for request: HTTPRequest) -> [(name: String, value: String)] {
        guard let origin = request.header("origin"), allows(origin: origin) else { return [] }
        return [
            ("access-control-allow-origin", allowsAny ? "*" : origin),
            ("access-control-expose-headers", "X-Stream-Id, X-Stream-Epoch, X-Session-ID, Location, Retry-After"),
            ("vary", "Origin"),
        ]
    }

    /// The answer to a preflight `OPTIONS`.
    func preflight(_ request: HTTPRequest) -> HTTPResponse {
        guard let origin = request.header("origin"), allows(origin: origin) else {
            return ErrorResponse.make(status: 403, message: "Origin not allowed.", code: "origin_not_allowed")
        }
        let requested = request.header("access-control-request-headers") ?? "authorization, content-type"
        return HTTPResponse(
            status: 204, contentType: "text/plain",
            headers: [
                ("access-control-allow-origin", allowsAny ? "*" : origin),
                ("access-control-allow-methods", "GET, POST, DELETE, OPTIONS"),
                ("access-control-allow-headers", requested),
                ("access-control-max-age", "600"),
                ("vary", "Origin"),
            ], body: [])
    }
}
