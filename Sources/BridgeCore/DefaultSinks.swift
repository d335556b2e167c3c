/// The sinks every stream gets besides its ingress's own (the HTTP caller's SSE, the prompt's
/// response queue): `sinks.default`, such as the embedded channel server.
public struct DefaultSinks: Sendable {
    private let make: @Sendable (_ uid: String) -> [any EventSink]

    public init(_ make: @escaping @Sendable (_ uid: String) -> [any EventSink]) {
        self.make = make
    }

    public static let none = DefaultSinks { _ in [] }

    public func sinks(for uid: String) -> [any EventSink] { make(uid) }
}
