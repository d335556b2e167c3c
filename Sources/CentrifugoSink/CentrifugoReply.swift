import BridgeCore
import Curl

/// What Centrifugo said to one request of `count` publications.
enum CentrifugoReply: Sendable, Equatable {
    case accepted
    /// Not accepted; `retryable` false when trying again cannot help (a wrong key or address).
    case refused(reason: String, retryable: Bool)

    static func read(_ response: CurlResponse, style: CentrifugoSinkConfiguration.APIStyle, count: Int) -> CentrifugoReply {
        switch response.status {
        case 200: break
        case 401, 403:
            return .refused(reason: "HTTP \(response.status): Centrifugo refused the API key (sinks.centrifugo.api_key)", retryable: false)
        case 404:
            return .refused(reason: "HTTP 404: no Centrifugo API at this address (sinks.centrifugo.api_url)", retryable: false)
        case 400, 413:
            // The request itself is refused: sending it again cannot help.
            return .refused(reason: "HTTP \(response.status)\(snippet(response.body))", retryable: false)
        default:
            return .refused(reason: "HTTP \(response.status)\(snippet(response.body))", retryable: true)
        }
        switch style {
        case .v5:
            guard let reply = try? JSONParser.parse(response.body), let object = reply.objectValue else {
                return .refused(reason: "an answer that is not JSON\(snippet(response.body))", retryable: true)
            }
            if count == 1 { return check(object) }
            guard let replies = object["replies"]?.arrayValue, replies.count == count else {
                return .refused(reason: "a batch answer without \(count) replies\(snippet(response.body))", retryable: true)
            }
            for reply in replies {
                guard let entry = reply.objectValue else { return .refused(reason: "a batch reply that is not an object", retryable: true) }
                if case .refused = check(entry) { return check(entry) }
            }
            return .accepted
        case .legacy:
            let lines = response.body.split(separator: UInt8(ascii: "\n")).filter { $0.contains { $0 > 0x20 } }
            guard lines.count == count else {
                return .refused(reason: "\(lines.count) answer lines for \(count) commands\(snippet(response.body))", retryable: true)
            }
            for line in lines {
                guard let object = (try? JSONParser.parse(line))?.objectValue else {
                    return .refused(reason: "an answer line that is not JSON", retryable: true)
                }
                if case .refused = check(object) { return check(object) }
            }
            return .accepted
        }
    }

    /// `{"error": {"code", "message"}}` anywhere a reply may carry it.
    private static func check(_ object: JSONObject) -> CentrifugoReply {
        guard let error = object["error"]?.objectValue else { return .accepted }
        let code = error["code"]?.intValue
        let message = error["message"]?.stringValue ?? ""
        // Unknown channel (no namespace for it), permission denied, bad request: the same
        // publication will be refused again.
        let permanent: Set<Int> = [102, 103, 107]
        return .refused(
            reason: "Centrifugo error \(code.map(String.init) ?? "?"): \(message)", retryable: !(code.map(permanent.contains) ?? false))
    }

    private static func snippet(_ body: [UInt8]) -> String {
        guard !body.isEmpty else { return "" }
        return ": " + String(decoding: body.prefix(200), as: UTF8.self)
    }
}
