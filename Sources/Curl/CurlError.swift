/// Why a transfer did not complete. HTTP error statuses are not errors here: they arrive as a head.
public struct CurlError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server could not be reached: name resolution, TCP connect or TLS handshake failed.
        case couldNotConnect
        /// A libcurl timeout (`connectTimeout` or `totalTimeout`) fired; the message says which.
        case timedOut
        /// A deadline set with `CurlMultiLoop.setDeadline` passed; `reason` is the one given there.
        case deadlineExceeded(reason: String)
        /// `CurlMultiLoop.cancel` was called.
        case cancelled
        /// The loop was shut down (or already was when the transfer was started).
        case shutdown
        /// Anything else that went wrong on the wire or in libcurl (reset, bad URL, bad response...).
        case transport
    }

    public var kind: Kind
    /// Human-readable detail, including libcurl's own error text when there is one.
    public var message: String
    /// The libcurl `CURLcode`, when the error came from libcurl.
    public var curlCode: Int32?

    public init(kind: Kind, message: String, curlCode: Int32? = nil) {
        self.kind = kind
        self.message = message
        self.curlCode = curlCode
    }

    public var description: String {
        let code = curlCode.map { " (curl code \($0))" } ?? ""
        return "\(kind): \(message)\(code)"
    }

    static let cancelled = CurlError(kind: .cancelled, message: "transfer cancelled")
    static let shutdown = CurlError(kind: .shutdown, message: "curl loop shut down")

    static func deadlineExceeded(_ reason: String) -> CurlError {
        CurlError(kind: .deadlineExceeded(reason: reason), message: "deadline exceeded: \(reason)")
    }
}
