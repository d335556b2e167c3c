import CCurl

// MARK: - libcurl result codes to CurlError

extension CurlError {
    /// Maps a failed transfer's `CURLcode`. `detail` is the transfer's CURLOPT_ERRORBUFFER text (more
    /// specific than curl_easy_strerror, e.g. "Failed to connect to 127.0.0.1 port 9: ..."), and
    /// `connected` says whether a connection was up, which tells a connect timeout from a total one.
    static func fromCurl(_ code: CURLcode, detail: String, connected: Bool) -> CurlError {
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let raw = Int32(bitPattern: code.rawValue)
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT,
            CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION:
            return CurlError(kind: .couldNotConnect, message: text, curlCode: raw)
        case CURLE_OPERATION_TIMEDOUT:
            let phase =
                connected
                ? "timed out after connecting (total timeout)" : "timed out while connecting (connect timeout)"
            return CurlError(kind: .timedOut, message: "\(phase): \(text)", curlCode: raw)
        default:
            return CurlError(kind: .transport, message: text, curlCode: raw)
        }
    }

    /// A libcurl setup call (easy init, setopt, add handle) failed before any I/O.
    static func setupFailed(_ what: String, code: Int32? = nil) -> CurlError {
        CurlError(kind: .transport, message: "curl setup failed: \(what)", curlCode: code)
    }
}
