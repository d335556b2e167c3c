import BridgeCore
import OpenAIWire
import WebServer

/// OpenAI-shaped error answers: `{"error":{"message","type","param","code"}}` with the right status.
enum ErrorResponse {
    static func make(
        status: Int, message: String, type: String? = nil, param: String? = nil, code: String? = nil,
        headers: [(name: String, value: String)] = []
    ) -> HTTPResponse {
        let body = OpenAIErrorEncoder.encode(
            message: message, type: type ?? defaultType(for: status), param: param, code: code)
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    static func defaultType(for status: Int) -> String {
        switch status {
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "not_found_error"
        case 429: return "rate_limit_error"
        case 400..<500: return "invalid_request_error"
        default: return "api_error"
        }
    }

    static func code(for status: Int) -> String {
        switch status {
        case 404: return "not_found"
        case 405: return "method_not_allowed"
        case 411: return "length_required"
        case 413: return "request_too_large"
        case 415: return "unsupported_media_type"
        case 431: return "headers_too_large"
        case 501: return "method_not_supported"
        default: return "error"
        }
    }

    /// A refused request, in the transport-neutral vocabulary of the core.
    static func make(_ error: RequestError) -> HTTPResponse {
        let status: Int
        var headers: [(name: String, value: String)] = []
        switch error.kind {
        case .invalid: status = 400
        case .unsupported: status = 422
        case .overloaded:
            status = 429
            headers.append(("retry-after", "1"))
        case .conflict: status = 409
        case .unavailable: status = 503
        }
        return make(status: status, message: error.message, param: error.param, code: error.code, headers: headers)
    }

    /// A stream that failed before a non-streaming caller got anything: the status says whose fault it is.
    static func make(_ failure: StreamFailure) -> HTTPResponse {
        let status: Int
        switch failure.code {
        case .upstreamTimeout: status = 504
        case .upstreamUnavailable, .shutdown: status = 503
        case .upstreamError:
            // The model server's 4xx about the request (unknown model, bad parameter, rate limit)
            // is the caller's to fix and keeps its status; its 401/403 are the bridge's own key.
            if let upstream = failure.upstreamStatus, (400..<500).contains(upstream), upstream != 401, upstream != 403 {
                status = upstream
            } else {
                status = 502
            }
        default: status = 502
        }
        return make(status: status, message: failure.message, type: status < 500 ? nil : "upstream_error", code: failure.code.rawValue)
    }
}
