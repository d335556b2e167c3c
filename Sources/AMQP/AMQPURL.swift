import CRabbitMQ
import Glibc

/// A broker address as `amqp://user:pass@host:port/vhost` or `amqps://...`, parsed the way
/// rabbitmq-c itself reads it, so what the configuration accepts is what the connection uses.
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String
    public var host: String
    public var port: Int
    public var virtualHost: String
    public var usesTLS: Bool

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let url: String
        public let reason: String
        public var description: String { "invalid AMQP URL '\(AMQPURL.redact(url))': \(reason)" }
    }

    /// Parses with `amqp_parse_url`; `%xx` escapes in user, password and vhost are decoded by it.
    public init(parsing url: String) throws(ParseError) {
        // amqp_parse_url writes into the string it parses and points into it: give it a copy.
        guard let buffer = strdup(url) else { throw ParseError(url: url, reason: "out of memory") }
        defer { free(buffer) }
        var info = amqp_connection_info()
        amqp_default_connection_info(&info)
        let status = amqp_parse_url(buffer, &info)
        guard status == AMQP_STATUS_OK.rawValue else {
            let reason = amqp_error_string2(status).map { String(cString: $0) } ?? "status \(status)"
            throw ParseError(url: url, reason: reason)
        }
        user = info.user.map { String(cString: $0) } ?? ""
        password = info.password.map { String(cString: $0) } ?? ""
        host = info.host.map { String(cString: $0) } ?? ""
        port = Int(info.port)
        // rabbitmq-c reads "amqp://host/" as the empty vhost; the Go client chatgpt-queue used
        // (and RabbitMQ users) mean the default vhost "/" by it.
        let vhost = info.vhost.map { String(cString: $0) } ?? ""
        virtualHost = vhost.isEmpty ? "/" : vhost
        usesTLS = info.ssl != 0
        // rabbitmq-c fills in localhost for "amqp://"; a configuration naming no host is a mistake.
        let authority = url.drop { $0 != "/" }.dropFirst(2).prefix { $0 != "/" }
        guard !host.isEmpty, !authority.isEmpty else { throw ParseError(url: url, reason: "no host") }
    }

    /// The address with the password hidden, for logs.
    public var description: String {
        // The default vhost "/" is the empty path; any other is written as given.
        let path = virtualHost == "/" ? "" : virtualHost
        return "\(usesTLS ? "amqps" : "amqp")://\(user):<redacted>@\(host):\(port)/\(path)"
    }

    static func redact(_ url: String) -> String {
        // user:password@ sits between "://" and the last "@".
        guard let at = url.lastIndex(of: "@"), let slash = url.firstIndex(of: "/"),
            url[slash...].hasPrefix("//"), slash < at,
            let colon = url[url.index(slash, offsetBy: 2)..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<url.index(after: colon)]) + "<redacted>" + String(url[at...])
    }
}
