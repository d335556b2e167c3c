extension HTTPResponse {
    /// The response as HTTP/1.1 bytes ending in `connection: close`, for connections lws no
    /// longer frames as HTTP: a refused WebSocket upgrade, a request line its parser gave up on.
    func closingWireBytes() -> [UInt8] {
        var text = "HTTP/1.1 \(head.status) \(Self.reasonPhrase(head.status))\r\n"
        text += "content-type: \(head.contentType)\r\ncontent-length: \(body.count)\r\n"
        for (name, value) in head.headers { text += "\(name.lowercased()): \(value)\r\n" }
        text += "connection: close\r\n\r\n"
        return Array(text.utf8) + body
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 426: return "Upgrade Required"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        default: return "Error"
        }
    }
}
