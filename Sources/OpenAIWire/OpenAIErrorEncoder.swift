import BridgeCore

/// OpenAI's error body, `{"error":{"message","type","param","code"}}`, which every OpenAI SDK
/// turns into its own error type.
public enum OpenAIErrorEncoder {
    /// The body for any error; `param` and `code` are written as null when absent, as OpenAI does.
    public static func encode(message: String, type: String, param: String? = nil, code: String? = nil) -> [UInt8] {
        var writer = JSONWriter(capacity: 96 + message.utf8.count)
        write(message: message, type: type, param: param, code: code, to: &writer)
        return writer.bytes
    }

    /// The body for a refused request.
    public static func encode(_ error: RequestError) -> [UInt8] {
        encode(message: error.message, type: type(for: error.kind), param: error.param, code: error.code)
    }

    /// The body for a stream that failed.
    public static func encode(_ failure: StreamFailure) -> [UInt8] {
        encode(message: failure.message, type: type(for: failure.code), code: failure.code.rawValue)
    }

    /// Writes the whole `{"error":{…}}` object.
    public static func write(
        message: String, type: String, param: String?, code: String?, to writer: inout JSONWriter
    ) {
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.key("message")
        writer.string(message)
        writer.key("type")
        writer.string(type)
        writer.key("param")
        if let param { writer.string(param) } else { writer.null() }
        writer.key("code")
        if let code { writer.string(code) } else { writer.null() }
        writer.endObject()
        writer.endObject()
    }

    /// OpenAI's `type` for a refused request.
    public static func type(for kind: RequestError.Kind) -> String {
        switch kind {
        case .invalid, .unsupported, .conflict: return "invalid_request_error"
        case .overloaded: return "rate_limit_error"
        case .unavailable: return "server_error"
        }
    }

    /// OpenAI's `type` for a stream failure: the model server's trouble or the bridge's own.
    public static func type(for code: StreamFailure.Code) -> String {
        switch code {
        case .upstreamError, .upstreamUnavailable, .upstreamTimeout, .upstreamDisconnected, .upstreamProtocol:
            return "upstream_error"
        default:
            return "server_error"
        }
    }
}
