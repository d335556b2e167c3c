/// A dependency `/health` reports on beside the model server (the broker, ...).
public protocol DependencyHealth: Sendable {
    /// The key under `checks` in the `/health` JSON.
    var healthName: String { get }
    /// Called on every `/health` request: must answer from state at hand, without I/O.
    func healthStatus() -> DependencyStatus
}

/// One dependency's state: up or down, and what an operator would want to read about it.
public struct DependencyStatus: Sendable, Equatable {
    public var isUp: Bool
    /// Extra fields of its `/health` entry, in order (`state`, `since_s`, `error`...).
    public var details: JSONObject

    public init(isUp: Bool, details: JSONObject = JSONObject()) {
        self.isUp = isUp
        self.details = details
    }
}
