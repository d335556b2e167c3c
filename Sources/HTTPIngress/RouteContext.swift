import WebServer

/// A request being answered, with the headers every answer to it carries (CORS).
struct RouteContext: Sendable {
    let request: HTTPRequest
    let responder: HTTPResponder
    let commonHeaders: [(name: String, value: String)]

    func respond(_ response: HTTPResponse) {
        var response = response
        response.head.headers += commonHeaders
        responder.respond(response)
    }

    func respondJSON(status: Int = 200, _ body: [UInt8], headers: [(name: String, value: String)] = []) {
        respond(HTTPResponse(status: status, headers: headers, body: body))
    }

    func startStream(_ head: HTTPResponseHead, heartbeat: StreamHeartbeat?) {
        var head = head
        head.headers += commonHeaders
        responder.startStream(head, heartbeat: heartbeat)
    }
}
