/// A request libwebsockets' HTTP parser gave up on at its first line (a method it has no name
/// for, or bytes that are not HTTP at all), handed back raw so the client still gets an answer in
/// the application's error shape instead of lws' HTML 403.
struct UnparsedRequest {
    let status: Int
    let message: String

    /// Request lines longer than this are not quoted back.
    static let quotedMethodLimit = 32

    /// `bytes` are what lws hands over: the read in which its parser gave up. A request line
    /// that came in more than one read is judged from its last piece (lws drops the rest), so
    /// the method quoted may be a fragment; the status is still a refusal in the error shape.
    init(bytes: UnsafeRawBufferPointer) {
        // A TLS record (handshake, then version 3.x) where a request line should be: the most
        // common way to reach a plain HTTP port with the wrong client setting.
        if bytes.count >= 2, bytes[0] == 0x16, bytes[1] == 0x03 {
            status = 400
            message = "This port speaks plain HTTP, and a TLS handshake arrived: use http://, or put a TLS terminator in front."
            return
        }
        var methodEnd = 0
        while methodEnd < bytes.count, Self.isTokenByte(bytes[methodEnd]) { methodEnd += 1 }
        if methodEnd > 0, methodEnd < bytes.count, bytes[methodEnd] == 0x20 {
            // RFC 9110 9.1: a method the server does not recognise is 501, not 405 (which says the
            // method exists but not on this resource).
            let method = String(decoding: bytes[..<min(methodEnd, Self.quotedMethodLimit)], as: UTF8.self)
            let quoted = methodEnd > Self.quotedMethodLimit ? method + "..." : method
            status = 501
            message = "Method \(quoted) is not supported: this server implements \(Self.implementedMethods)."
        } else {
            status = 400
            message = "The request is not HTTP: expected a request line such as 'POST /v1/chat/completions HTTP/1.1'."
        }
    }

    static let implementedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS"

    /// RFC 9110 5.6.2 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }
}
