/// The sinks a stream can have besides its ingress's own (the HTTP caller's SSE, the prompt's
/// response queue): `sinks.default` for every stream, and what a request may name within
/// `sinks.allowed`, among those this bridge has set up.
public struct SinkCatalog: Sendable {
    /// Every sink name there is, whether set up here or not.
    public static let knownNames = ["websocket", "rabbitmq", "centrifugo"]

    /// A new sink for one stream (its uid, and the model it goes upstream with).
    public typealias Maker = @Sendable (_ uid: String, _ model: String) -> any EventSink

    private let makers: [String: Maker]
    public let defaults: [String]
    public let allowed: Set<String>

    /// - Parameters:
    ///   - available: the sinks set up on this bridge, by name.
    ///   - defaults: `sinks.default` (see `validateDefaults`).
    public init(available: [String: Maker], defaults: [String], allowed: [String]) {
        makers = available
        self.defaults = defaults
        self.allowed = Set(allowed)
    }

    /// This catalog with one more sink set up.
    public func adding(_ name: String, _ maker: @escaping Maker) -> SinkCatalog {
        var makers = self.makers
        makers[name] = maker
        return SinkCatalog(available: makers, defaults: defaults, allowed: Array(allowed))
    }

    /// Refuses `sinks.default` naming a sink that is not set up: every stream would lack it.
    public func validateDefaults() throws(SinkCatalogError) {
        for name in defaults where makers[name] == nil { throw SinkCatalogError(name: name) }
    }

    private init() {
        makers = [:]
        defaults = []
        allowed = []
    }

    public static let none = SinkCatalog()

    /// The names a stream gets: `requested` checked, or the defaults when it is nil.
    ///
    /// - Parameter own: the sink the stream's ingress gives it anyway (a queue prompt's response
    ///   queue): naming it is fine and adds nothing.
    public func resolve(_ requested: [String]?, own: String? = nil) throws(RequestError) -> [String] {
        guard let requested else { return defaults.filter { $0 != own } }
        var names: [String] = []
        for name in requested where !names.contains(name) && name != own {
            guard Self.knownNames.contains(name) else {
                throw RequestError(
                    .invalid, "Unknown sink '\(name)'; the sinks are \(Self.knownNames.joined(separator: ", ")).",
                    param: "sinks", code: "unknown_sink")
            }
            guard allowed.contains(name) else {
                throw RequestError(
                    .invalid, "Sink '\(name)' may not be requested here (sinks.allowed: \(allowed.sorted().joined(separator: ", "))).",
                    param: "sinks", code: "sink_not_allowed")
            }
            guard makers[name] != nil else {
                throw RequestError(
                    .invalid, "Sink '\(name)' is not set up on this bridge (see the sinks section of its configuration).",
                    param: "sinks", code: "sink_unavailable")
            }
            names.append(name)
        }
        return names
    }

    /// The sinks for `names` (from `resolve`).
    public func sinks(_ names: [String], for uid: String, model: String) -> [any EventSink] {
        names.compactMap { makers[$0]?(uid, model) }
    }
}

/// `sinks.default` names a sink this bridge has not set up.
public struct SinkCatalogError: Error, CustomStringConvertible {
    public let name: String
    public var description: String {
        "sinks.default names '\(name)', which is not set up (the websocket sink needs the channel server, rabbitmq needs ingress.rabbitmq, centrifugo needs sinks.centrifugo.api_url)"
    }
}
