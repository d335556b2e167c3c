/// A chat completion request as a client sent it, checked, with the bridge's own fields taken out.
///
/// Everything the bridge does not own (sampling fields, tools, response_format...) stays in `body`
/// and goes to the model server unchanged.
public struct ChatRequest: Sendable, Equatable {
    /// Fields the bridge reads and never forwards to the model server.
    public static let bridgeFields: Set<String> = ["uid", "username", "sinks", "async", "on_disconnect"]

    /// What happens to the stream when the HTTP caller goes away before the end.
    public enum DisconnectPolicy: String, Sendable, Equatable {
        case cancel, `continue`
    }

    /// The OpenAI request without the bridge's fields.
    public var body: JSONObject
    public var model: String?
    public var stream: Bool
    public var uid: String?
    public var username: String?
    /// `stream_options.include_usage`: the client wants a final usage-only chunk.
    public var includeUsage: Bool
    /// Sinks the request names (within `sinks.allowed`); nil = `sinks.default`.
    public var sinks: [String]?
    /// Answer 202 at once and let the sinks carry the answer.
    public var isAsync: Bool
    public var onDisconnect: DisconnectPolicy?

    public init(
        body: JSONObject, model: String?, stream: Bool, uid: String?, username: String?, includeUsage: Bool,
        sinks: [String]? = nil, isAsync: Bool = false, onDisconnect: DisconnectPolicy? = nil
    ) {
        self.body = body
        self.model = model
        self.stream = stream
        self.uid = uid
        self.username = username
        self.includeUsage = includeUsage
        self.sinks = sinks
        self.isAsync = isAsync
        self.onDisconnect = onDisconnect
    }

    /// Parses and validates a request body, reporting the first problem as OpenAI would.
    public static func parse(bytes: some Collection<UInt8>) throws(RequestError) -> ChatRequest {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw RequestError(.invalid, "The request body is not valid JSON: \(error)", code: "invalid_json")
        }
        return try parse(value)
    }

    public static func parse(_ value: JSONValue) throws(RequestError) -> ChatRequest {
        guard case .object(var body) = value else {
            throw RequestError(.invalid, "The request body must be a JSON object, not \(value.typeName).", code: "invalid_json")
        }
        let messages = try field(body, "messages", as: "an array", required: true) { $0.arrayValue }
        guard let messages, !messages.isEmpty else {
            throw RequestError(.invalid, "'messages' must be a non-empty array.", param: "messages", code: "invalid_value")
        }
        for (index, message) in messages.enumerated() {
            guard let object = message.objectValue else {
                throw RequestError(
                    .invalid, "'messages[\(index)]' must be an object, not \(message.typeName).",
                    param: "messages[\(index)]", code: "invalid_type")
            }
            guard let role = object["role"] else {
                throw RequestError(
                    .invalid, "'messages[\(index)].role' is required.", param: "messages[\(index)].role",
                    code: "missing_field")
            }
            guard role.stringValue != nil else {
                throw RequestError(
                    .invalid, "'messages[\(index)].role' must be a string, not \(role.typeName).",
                    param: "messages[\(index)].role", code: "invalid_type")
            }
        }
        let model = try field(body, "model", as: "a string") { $0.stringValue }
        let stream = try field(body, "stream", as: "a boolean") { $0.boolValue } ?? false
        let username = try field(body, "username", as: "a string") { $0.stringValue }
        let uid = try field(body, "uid", as: "a string") { $0.stringValue }
        if let uid, !StreamID.isValid(uid) {
            throw RequestError(
                .invalid, "'uid' must be 1-\(StreamID.maximumLength) characters of [A-Za-z0-9_.:-].", param: "uid",
                code: "invalid_value")
        }
        if let choices = try field(body, "n", as: "an integer", read: { $0.intValue }), choices != 1 {
            throw RequestError(
                .unsupported, "The bridge streams one choice per request; 'n' must be 1.", param: "n",
                code: "unsupported_value")
        }
        var includeUsage = false
        if let options = try field(body, "stream_options", as: "an object", read: { $0.objectValue }) {
            includeUsage = try field(options, "include_usage", as: "a boolean", name: "stream_options.include_usage") {
                $0.boolValue
            } ?? false
        }
        let sinks = try field(body, "sinks", as: "an array of sink names") { value -> [String]? in
            guard let items = value.arrayValue else { return nil }
            let names = items.compactMap(\.stringValue)
            return names.count == items.count ? names : nil
        }
        let isAsync = try field(body, "async", as: "a boolean") { $0.boolValue } ?? false
        let onDisconnect = try field(body, "on_disconnect", as: "a string") { $0.stringValue }.map {
            (name) throws(RequestError) -> DisconnectPolicy in
            guard let policy = DisconnectPolicy(rawValue: name) else {
                throw RequestError(
                    .invalid, "'on_disconnect' must be 'cancel' or 'continue', not '\(name)'.", param: "on_disconnect",
                    code: "invalid_value")
            }
            return policy
        }
        for name in bridgeFields { body[name] = nil }
        return ChatRequest(
            body: body, model: model, stream: stream, uid: uid, username: username, includeUsage: includeUsage,
            sinks: sinks, isAsync: isAsync, onDisconnect: onDisconnect)
    }

    /// Reads an optional field; present but null counts as absent, present with another type is an error.
    private static func field<T>(
        _ object: JSONObject, _ key: String, as expected: String, name: String? = nil, required: Bool = false,
        read: (JSONValue) -> T?
    ) throws(RequestError) -> T? {
        let name = name ?? key
        guard let value = object[key], !value.isNull else {
            if required {
                throw RequestError(.invalid, "'\(name)' is required.", param: name, code: "missing_field")
            }
            return nil
        }
        guard let typed = read(value) else {
            throw RequestError(
                .invalid, "'\(name)' must be \(expected), not \(value.typeName).",
                param: name, code: "invalid_type")
        }
        return typed
    }
}
