import BridgeCore
import Synchronization

/// One channel: its stream position (epoch and top offset), bounded history, and subscribers.
final class Channel: Sendable {
    struct State {
        var epoch: String
        /// An epoch the channel had before, under which nothing was ever published: a client that
        /// subscribed then (before a stream started) still recovers under the stream's epoch.
        var emptyPriorEpoch: String?
        var top: UInt64 = 0
        var history: HistoryRing
        var lastPublish: ContinuousClock.Instant?
        var subscribers: [ObjectIdentifier: any ChannelSubscriber] = [:]
        /// Idempotency keys of recent publishes (server API), with when they were used.
        var idempotency: [String: (offset: UInt64, at: ContinuousClock.Instant)] = [:]
        /// Dropped from the hub by the sweeper: whoever finds it after looking it up looks again.
        var removed = false
        /// Where it stands in the hub's RecencyList while it has history.
        var recencySlot: Int?
    }

    let name: String
    let state: Mutex<State>

    /// A new channel, or one made again where a retired one stood.
    init(name: String, historySize: Int, restoring position: RetiredPositions.Position? = nil) {
        self.name = name
        var state = State(epoch: position?.epoch ?? Channel.newEpoch(), history: HistoryRing(capacity: historySize))
        state.top = position?.top ?? 0
        state.emptyPriorEpoch = position?.emptyPriorEpoch
        self.state = Mutex(state)
    }

    /// 8 random letters, as Centrifugo's memory engine makes them.
    static func newEpoch() -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var generator = SystemRandomNumberGenerator()
        var value = generator.next() as UInt64
        var characters = [UInt8](repeating: 0, count: 8)
        for index in 0..<8 {
            characters[index] = letters[Int(value % 52)]
            value /= 52
        }
        return String(decoding: characters, as: UTF8.self)
    }
}

/// What a subscribe found: the channel's position and, when recovering, what was missed.
public struct SubscribeOutcome: Sendable {
    public var epoch: String
    public var offset: UInt64
    public var recovered: Bool
    public var publications: [Publication]
}

/// A page of history.
public struct HistoryPage: Sendable {
    public var epoch: String
    public var offset: UInt64
    public var publications: [Publication]
}
