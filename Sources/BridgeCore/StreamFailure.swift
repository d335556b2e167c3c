/// Why a stream ended in an `error` event, with what the model server said when it said anything.
public struct StreamFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable, documented error codes: consumers branch on these.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The model server answered with a non-2xx status or an `{"error":...}` body.
        public static let upstreamError = Code(rawValue: "upstream_error")
        /// The model server could not be reached (DNS, refused, TLS).
        public static let upstreamUnavailable = Code(rawValue: "upstream_unavailable")
        /// Connect, first-token, idle or total timeout.
        public static let upstreamTimeout = Code(rawValue: "upstream_timeout")
        /// The connection dropped or the stream was malformed after it started.
        public static let upstreamDisconnected = Code(rawValue: "upstream_disconnected")
        public static let upstreamProtocol = Code(rawValue: "upstream_protocol_error")
        /// The bridge is stopping and the grace period ran out.
        public static let shutdown = Code(rawValue: "shutdown")
        public static let internalError = Code(rawValue: "internal_error")
        /// The prompt itself was unusable (a queue message that is not a chat request).
        public static let invalidRequest = Code(rawValue: "invalid_request")
        /// The stream ran past the time its ingress allows: a queue prompt must be acknowledged
        /// before the broker's consumer timeout takes it back.
        public static let deadlineExceeded = Code(rawValue: "deadline_exceeded")
        /// The prompt went back to its queue (the broker connection was lost, or the bridge shut
        /// down first); it will be answered again, under a new epoch.
        public static let requeued = Code(rawValue: "requeued")
        /// A sink could not deliver the stream (and `fail_stream` asked for the others to hear of it).
        public static let sinkFailed = Code(rawValue: "sink_failed")
    }

    public var code: Code
    public var message: String
    /// The HTTP status the model server answered with, when there was one.
    public var upstreamStatus: Int?
    /// Seconds the model server asked us to wait (`Retry-After`), when it did.
    public var retryAfter: Double?

    public init(code: Code, message: String, upstreamStatus: Int? = nil, retryAfter: Double? = nil) {
        self.code = code
        self.message = message
        self.upstreamStatus = upstreamStatus
        self.retryAfter = retryAfter
    }

    public var description: String {
        if let upstreamStatus { return "\(code) (upstream status \(upstreamStatus)): \(message)" }
        return "\(code): \(message)"
    }
}

extension StreamFailure {
    /// `{"code", "message", "upstream_status"?}`, as the `error` event and the stream result carry it.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("code")
        writer.string(code.rawValue)
        writer.key("message")
        writer.string(message)
        if let upstreamStatus {
            writer.key("upstream_status")
            writer.int(upstreamStatus)
        }
        writer.endObject()
    }
}
