import BridgeCore
import Centrifuge
import WebServer

/// Centrifugo's server HTTP API on the bridge's port: `POST /api/<method>` and the legacy
/// `POST /api` with `{"method","params"}` bodies.
public struct ServerAPIRoutes: HTTPHandler {
    public let api: ServerAPI
    /// The key every request must carry; empty refuses every request (as Centrifugo does)
    /// unless `insecure`.
    public let apiKey: String
    /// No key needed at all (Centrifugo's `http_api.insecure`): for a port nobody else reaches.
    public let insecure: Bool

    public init(api: ServerAPI, apiKey: String, insecure: Bool = false) {
        self.api = api
        self.apiKey = apiKey
        self.insecure = insecure
    }

    public func handle(_ request: HTTPRequest, responder: HTTPResponder) -> HTTPRouteDecision {
        guard request.path == "/api" || request.path.hasPrefix("/api/") else { return .notARoute }
        guard request.method == "POST" else {
            responder.respond(HTTPResponse(status: 405, headers: [("allow", "POST")], text: "Use POST."))
            return .handled
        }
        guard isAuthorized(request) else {
            // Centrifugo's answer to a missing or wrong key: 401 with an empty body.
            responder.respond(HTTPResponse(status: 401, body: []))
            return .handled
        }
        if request.path == "/api" {
            responder.respond(legacy(request.body))
        } else {
            let method = String(request.path.dropFirst("/api/".count))
            responder.respond(call(method, body: request.body, transportErrors: request.header("x-centrifugo-error-mode")?.lowercased() == "transport"))
        }
        return .handled
    }

    public func errorResponse(status: Int, message: String, request: HTTPRequest?) -> HTTPResponse {
        HTTPResponse(status: status, text: message)
    }

    /// Centrifugo's order: `X-API-Key`; only without it `Authorization: apikey <key>`; and when
    /// neither matched, `?api_key=`.
    private func isAuthorized(_ request: HTTPRequest) -> Bool {
        if insecure { return true }
        guard !apiKey.isEmpty else { return false }
        if let header = request.header("x-api-key") {
            if constantTimeEquals(header, apiKey) { return true }
        } else if let authorization = request.header("authorization") {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "apikey", constantTimeEquals(String(parts[1]).trimmingHeaderWhitespace(), apiKey) {
                return true
            }
        }
        return request.queryItem("api_key").map { constantTimeEquals($0, apiKey) } ?? false
    }

    private func call(_ method: String, body: [UInt8], transportErrors: Bool) -> HTTPResponse {
        guard ServerAPI.methods.contains(method) else {
            return failure(.methodNotFound, transport: transportErrors)
        }
        let params: JSONObject
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            params = JSONObject()
        } else {
            guard let object = (try? JSONParser.parse(body))?.objectValue else {
                return HTTPResponse(status: 400, text: "The body is not a JSON object.")
            }
            params = object
        }
        let outcome = method == "batch" ? api.batch(params) : api.call(method, params)
        switch outcome {
        case .success(let result):
            if method == "batch" { return HTTPResponse(status: 200, body: result) }
            var writer = JSONWriter(capacity: result.count + 16)
            writer.beginObject()
            writer.key("result")
            writer.raw(result)
            writer.endObject()
            return HTTPResponse(status: 200, body: writer.bytes)
        case .failure(let error):
            return failure(error, transport: transportErrors)
        }
    }

    /// Default mode: 200 with `{"error":…}`. Transport mode: the bare error with a status for its code.
    private func failure(_ error: ReplyError, transport: Bool) -> HTTPResponse {
        var writer = JSONWriter(capacity: 64)
        if transport {
            ServerAPI.writeBareError(error, to: &writer)
            let status: Int
            switch error.code {
            case 100: status = 500
            case 102, 104: status = 404
            case 107, 108: status = 400
            case 112: status = 416
            case 113: status = 409
            default: status = 500
            }
            return HTTPResponse(status: status, body: writer.bytes)
        }
        writer.beginObject()
        writer.key("error")
        ServerAPI.writeBareError(error, to: &writer)
        writer.endObject()
        return HTTPResponse(status: 200, body: writer.bytes)
    }

    /// The v3/v4 form, still served on `/api`: one or more `{"method","params","id"}` objects,
    /// one per line; as many answers, one per line. `method` is a name in any case, or a number.
    private func legacy(_ body: [UInt8]) -> HTTPResponse {
        var answers: [[UInt8]] = []
        for line in body.split(separator: UInt8(ascii: "\n")) where line.contains(where: { $0 > 0x20 }) {
            guard let command = (try? JSONParser.parse(line))?.objectValue else {
                return HTTPResponse(status: 400, text: "The body is not JSON commands.")
            }
            var writer = JSONWriter(capacity: 128)
            writer.beginObject()
            if let id = command["id"], !id.isNull {
                writer.key("id")
                writer.value(id)
            }
            let method = Self.legacyMethod(command["method"])
            let params = command["params"]?.objectValue ?? JSONObject()
            let outcome: Result<[UInt8], ReplyError>
            if let method, ServerAPI.methods.contains(method), method != "batch" {
                outcome = api.call(method, params)
            } else {
                outcome = .failure(.methodNotFound)
            }
            switch outcome {
            case .success(let result):
                writer.key("result")
                writer.raw(result)
            case .failure(let error):
                writer.key("error")
                ServerAPI.writeBareError(error, to: &writer)
            }
            writer.endObject()
            answers.append(writer.bytes)
        }
        return HTTPResponse(status: 200, body: Array(answers.joined(separator: [UInt8(ascii: "\n")])))
    }

    private static let legacyNumbers = [
        "publish", "broadcast", "unsubscribe", "disconnect", "presence", "presence_stats", "history", "history_remove",
        "channels", "info",
    ]

    private static func legacyMethod(_ value: JSONValue?) -> String? {
        if let name = value?.stringValue { return name.lowercased() }
        if let number = value?.intValue, legacyNumbers.indices.contains(number) { return legacyNumbers[number] }
        return nil
    }
}

/// Compares secrets without an early exit.
func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
    let left = Array(lhs.utf8)
    let right = Array(rhs.utf8)
    var difference = UInt8(truncatingIfNeeded: left.count ^ right.count)
    for index in 0..<max(left.count, right.count) {
        difference |= (index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0)
    }
    return difference == 0
}
