import Synchronization

/// The connected sessions, for limits, counts and the server API's `disconnect` and `unsubscribe`.
public final class ClientRegistry: Sendable {
    private struct Entry {
        weak var session: ClientSession?
    }

    private let sessions = Mutex<[String: Entry]>([:])
    private let slow = Atomic<Int>(0)
    private let accepted = Atomic<Int>(0)

    public init() {}

    /// Connections closed for falling too far behind (3008), so far.
    public var slowDisconnects: Int { slow.load(ordering: .relaxed) }
    /// Connections opened so far.
    public var connectionsOpened: Int { accepted.load(ordering: .relaxed) }

    func noteSlow() { slow.add(1, ordering: .relaxed) }

    func add(_ session: ClientSession) {
        accepted.add(1, ordering: .relaxed)
        sessions.withLock { $0[session.clientID] = Entry(session: session) }
    }

    func connected(_ session: ClientSession) {}

    func remove(_ session: ClientSession) {
        sessions.withLock { $0[session.clientID] = nil }
    }

    /// Open connections, connected or not yet.
    public var count: Int { sessions.withLock { $0.count } }

    /// Distinct users among connected sessions (anonymous ones count as one).
    public var userCount: Int { Set(all().map(\.user)).count }

    public func all() -> [ClientSession] {
        sessions.withLock { $0.values.compactMap(\.session) }
    }

    /// Sessions of `user`, or the one `client` when given.
    public func sessions(user: String, client: String? = nil) -> [ClientSession] {
        all().filter { $0.user == user && (client == nil || $0.clientID == client) }
    }
}
