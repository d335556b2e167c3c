import BridgeCore

/// The JSON body of a compatibility endpoint (`{message, session_id}`, `{query, uuid}`): one
/// object with a few typed fields, checked with the same vocabulary as the OpenAI route's.
///
/// The content type is not checked: the projects these endpoints stand in for parsed the body as
/// JSON whatever it said (FastAPI's `request.json()`), and their documented `curl` lines rely on it.
struct CompatRequestBody {
    private let object: JSONObject

    init(bytes: [UInt8]) throws(RequestError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw RequestError(.invalid, "The request body is not valid JSON: \(error)", code: "invalid_json")
        }
        guard case .object(let object) = value else {
            throw RequestError(.invalid, "The request body must be a JSON object, not \(value.typeName).", code: "invalid_json")
        }
        self.object = object
    }

    /// A string field that must be there.
    func requiredString(_ key: String) throws(RequestError) -> String {
        guard let text = try string(key) else {
            throw RequestError(.invalid, "'\(key)' is required.", param: key, code: "missing_field")
        }
        return text
    }

    /// An optional string field; null counts as absent, as pydantic's `str | None` does.
    func string(_ key: String) throws(RequestError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.stringValue else {
            throw RequestError(.invalid, "'\(key)' must be a string, not \(value.typeName).", param: key, code: "invalid_type")
        }
        return text
    }

    /// A string field used as the stream's uid, so the caller can read the stream by it later;
    /// refused rather than rewritten when it is not one, since a rewritten id would not find the
    /// stream when the caller comes back with its own.
    func streamID(_ key: String) throws(RequestError) -> String? {
        guard let id = try string(key) else { return nil }
        guard StreamID.isValid(id) else {
            throw RequestError(
                .invalid, "'\(key)' must be 1-\(StreamID.maximumLength) characters of [A-Za-z0-9_.:-].", param: key,
                code: "invalid_value")
        }
        return id
    }
}

extension ChatRequest {
    /// The request a compatibility endpoint makes of a prompt: one user message, streamed, under
    /// `uid`, with the configured model unless the body named one.
    static func compat(prompt: String, uid: String, model: String?) throws(RequestError) -> ChatRequest {
        var body = JSONObject([
            (key: "messages", value: [["role": "user", "content": .string(prompt)]]), (key: "stream", value: true),
            (key: "uid", value: .string(uid)),
        ])
        if let model { body["model"] = .string(model) }
        // Through the OpenAI parser, so the bridge's own fields are taken out as on the main route.
        return try ChatRequest.parse(.object(body))
    }
}
