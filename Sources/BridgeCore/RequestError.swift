/// A client request the bridge refuses, with what to tell the client.
///
/// Transports map `kind` onto their own vocabulary (HTTP status, AMQP dead-letter reason).
public struct RequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not JSON, not an object, a missing or wrongly typed field (HTTP 400).
        case invalid
        /// Well-formed and valid OpenAI, but something the bridge does not do (HTTP 422).
        case unsupported
        /// Over `pipeline.max_concurrent_streams` (HTTP 429).
        case overloaded
        /// A stream with this uid is already running (HTTP 409).
        case conflict
        /// The bridge is stopping (HTTP 503).
        case unavailable
    }

    public var kind: Kind
    public var message: String
    /// The offending request field, as OpenAI's `param`.
    public var param: String?
    /// A stable machine-readable code (`invalid_json`, `missing_field`, `invalid_type`...).
    public var code: String

    public init(_ kind: Kind, _ message: String, param: String? = nil, code: String) {
        self.kind = kind
        self.message = message
        self.param = param
        self.code = code
    }

    public var description: String { message }
}
