import BridgeCore

/// The human-readable part of an error a model server sent: a non-2xx body, an `event: error`
/// message, or an `{"error":…}` chunk in the middle of a stream.
///
/// Servers disagree on the shape, so this tries, in order: OpenAI `{"error":{"message","type",
/// "code"}}`, `{"error":"text"}` (Ollama), FastAPI/vLLM `{"detail":…}`, a top-level
/// `{"message":…}` (older vLLM, many proxies), a one-element array of those (Gemini), and last
/// the body as plain text, trimmed and truncated.
public struct UpstreamErrorBody: Sendable, Equatable {
    /// Longer messages are cut here: an HTML error page is not a useful error message.
    public static let maximumMessageLength = 500

    /// What went wrong, in the server's words; empty when the body said nothing.
    public var message: String
    /// OpenAI's `type` (`invalid_request_error`...), when the server sent one.
    public var type: String?
    /// OpenAI's `code`, as text (vLLM sends the HTTP status as a number).
    public var code: String?

    public init(message: String, type: String? = nil, code: String? = nil) {
        self.message = message
        self.type = type
        self.code = code
    }

    /// Extracts the message from a body; an empty body gives an empty message.
    public init(bytes: some Collection<UInt8>) {
        if let value = try? JSONParser.parse(bytes), let body = UpstreamErrorBody(json: value) {
            self = body
        } else {
            self.init(message: Self.shortened(String(decoding: bytes, as: UTF8.self)))
        }
    }

    /// Just the message of `init(bytes:)`, or a placeholder when the body said nothing.
    public static func message(from bytes: some Collection<UInt8>) -> String {
        let message = UpstreamErrorBody(bytes: bytes).message
        return message.isEmpty ? "(empty response body)" : message
    }

    /// `init(bytes:)` for text, such as an SSE message's data.
    public init(text: String) {
        self.init(bytes: Array(text.utf8))
    }

    /// Reads an error out of parsed JSON; nil when the value has no recognisable error in it.
    public init?(json: JSONValue) {
        switch json {
        case .string(let text):
            self.init(message: Self.shortened(text))
        case .array(let elements):
            guard let first = elements.first, let body = UpstreamErrorBody(json: first) else { return nil }
            self = body
        case .object(let object):
            guard let body = Self.fromObject(object) else { return nil }
            self = body
        default:
            return nil
        }
    }

    /// A stream failure carrying this message, for a non-2xx answer or an error mid-stream.
    public func failure(status: Int? = nil, retryAfter: Double? = nil) -> StreamFailure {
        var text = message
        if text.isEmpty {
            text = status.map { "The model server answered HTTP \($0) with no message." }
                ?? "The model server reported an error with no message."
        }
        return StreamFailure(code: .upstreamError, message: text, upstreamStatus: status, retryAfter: retryAfter)
    }

    // MARK: - Shapes

    private static func fromObject(_ object: JSONObject) -> UpstreamErrorBody? {
        if let error = object["error"], !error.isNull {
            if let text = error.stringValue { return UpstreamErrorBody(message: shortened(text)) }
            if let inner = error.objectValue, let body = fromFields(inner) { return body }
        }
        if let detail = object["detail"], !detail.isNull {
            return UpstreamErrorBody(message: shortened(describeDetail(detail)))
        }
        return fromFields(object)
    }

    /// `message`, `type` and `code` side by side, as OpenAI's inner error object or vLLM's body.
    private static func fromFields(_ object: JSONObject) -> UpstreamErrorBody? {
        guard let message = object["message"]?.stringValue ?? object["msg"]?.stringValue else { return nil }
        return UpstreamErrorBody(
            message: shortened(message), type: object["type"]?.stringValue, code: codeText(object["code"]))
    }

    private static func codeText(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text): return text
        case .integer(let number): return String(number)
        default: return nil
        }
    }

    /// FastAPI's `detail` is a string, or a list of validation errors `{"loc":[…],"msg":"…"}`.
    private static func describeDetail(_ detail: JSONValue) -> String {
        switch detail {
        case .string(let text):
            return text
        case .array(let items):
            return items.map { item -> String in
                guard let object = item.objectValue, let message = object["msg"]?.stringValue else {
                    return item.stringValue ?? item.jsonString
                }
                let location = object["loc"]?.arrayValue?.map { $0.stringValue ?? $0.jsonString }
                guard let location, !location.isEmpty else { return message }
                return "\(location.joined(separator: ".")): \(message)"
            }.joined(separator: "; ")
        case .object(let object):
            return object["message"]?.stringValue ?? object["msg"]?.stringValue ?? detail.jsonString
        default:
            return detail.jsonString
        }
    }

    /// Trims whitespace and cuts at `maximumMessageLength` characters, marking the cut.
    static func shortened(_ text: String) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        let trimmed = text[first...last]
        guard let cut = trimmed.index(trimmed.startIndex, offsetBy: maximumMessageLength, limitedBy: trimmed.endIndex),
            cut < trimmed.endIndex
        else { return String(trimmed) }
        return String(trimmed[..<cut]) + "…"
    }
}
