import BridgeCore
import Glibc
import Synchronization

/// One client connection speaking Centrifugo's protocol v2 (JSON): commands in, replies and
/// pushes out through a bounded queue, pings on a fixed timer.
///
/// The transport calls `open`, `receive`, `nextFrame`, `tick` and `closed` on its own thread;
/// channels call `channel(_:didPublish:)` from publishers' threads. All state sits behind one lock
/// taken after any channel lock, never before one.
public final class ClientSession: ChannelSubscriber, @unchecked Sendable {
    // @unchecked: `transport` and the lets are set once in init; everything that changes is in
    // `state`, a Mutex.

    public typealias RPCHandler = @Sendable (_ method: String, _ data: JSONValue, _ session: ClientSession) -> Result<JSONValue?, ReplyError>

    enum Phase {
        case awaitingConnect
        /// A connect was answered with an error (109...): the connection is unusable, whatever
        /// comes next closes it (3501), as Centrifugo does.
        case refused
        case connected
        case closed
    }

    struct Subscription {
        var chanInfo: [UInt8]?
        var expiresAt: Int64?
        /// The subscription token's expiry plus the grace period: passed without a
        /// `sub_refresh`, the subscription ends.
        var endsAt: ContinuousClock.Instant?
        /// Reserved while the subscribe is being answered (a second one in the same batch is 105).
        var pending: Bool
    }

    struct State {
        var phase = Phase.awaitingConnect
        var identity = Identity()
        var subscriptions: [String: Subscription] = [:]
        var queue = OutboundQueue()
        var closing: Disconnect?
        var connectBy: ContinuousClock.Instant
        var nextPing: ContinuousClock.Instant?
        var pongDue: ContinuousClock.Instant?
        /// Closed with 3005 when passed without a refresh (token expiry plus a grace period).
        var expiresAt: ContinuousClock.Instant?
        var tickAt: ContinuousClock.Instant?
    }

    public let clientID: String
    let hub: ChannelHub
    let configuration: SessionConfiguration
    let authorizer: any ChannelAuthorizer
    let transport: any ClientTransport
    let rpcHandler: RPCHandler?
    let registry: ClientRegistry?
    let state: Mutex<State>
    /// Read without the lock by channels building presence.
    private let info = Mutex<ClientInfo>(ClientInfo(client: "", user: ""))

    public init(
        hub: ChannelHub, configuration: SessionConfiguration, authorizer: any ChannelAuthorizer, transport: any ClientTransport,
        registry: ClientRegistry? = nil, rpcHandler: RPCHandler? = nil
    ) {
        clientID = StreamID.generate()
        self.hub = hub
        self.configuration = configuration
        self.authorizer = authorizer
        self.transport = transport
        self.registry = registry
        self.rpcHandler = rpcHandler
        state = Mutex(State(connectBy: .now + configuration.connectTimeout))
        info.withLock { $0 = ClientInfo(client: clientID, user: "") }
    }

    public var clientInfo: ClientInfo { info.withLock { $0 } }

    /// With the subscription token's `info` as `chan_info`. Taken under the channel's lock,
    /// which comes before this session's.
    public func clientInfo(in channel: String) -> ClientInfo {
        var info = clientInfo
        info.chanInfo = state.withLock { $0.subscriptions[channel]?.chanInfo }
        return info
    }
    public var user: String { state.withLock { $0.identity.user } }
    /// Who the connection is (anonymous until its connect was accepted).
    public var identity: Identity { state.withLock { $0.identity } }
    public var subscribedChannels: [String] { state.withLock { Array($0.subscriptions.keys) } }

    // MARK: - Transport entry points

    public func open() {
        registry?.add(self)
        scheduleTick()
    }

    /// One WebSocket message: one or more commands separated by `\\n`, handled in order.
    public func receive(_ message: [UInt8], binary: Bool) {
        guard !binary else {
            // The JSON protocol is text frames only.
            disconnect(.badRequest)
            return
        }
        let lines = message.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        // An empty frame, or blank lines inside one, are bad requests; one trailing newline is fine.
        let commands = lines.last?.isEmpty == true && lines.count > 1 ? Array(lines.dropLast()) : lines
        for line in commands {
            guard !line.isEmpty, !isClosing else {
                if line.isEmpty { disconnect(.badRequest) }
                return
            }
            do {
                handle(try ClientCommand.parse(line))
            } catch {
                disconnect(error)
                return
            }
        }
    }

    public func nextFrame() -> ClientFrame? {
        state.withLock { state in
            if let closing = state.closing { return .close(closing) }
            return state.queue.takeFrame(limit: configuration.frameBytes).map(ClientFrame.text)
        }
    }

    /// Whether frames are waiting to be taken (or a close).
    public var hasQueuedOutput: Bool {
        state.withLock { $0.closing != nil || !$0.queue.isEmpty }
    }

    /// Bytes queued for this client and not yet written: how far behind it is.
    public var queuedBytes: Int { state.withLock { $0.queue.bytes } }

    /// Pings, pong and connect deadlines, token expiry.
    public func tick() {
        let now = ContinuousClock.now
        var sendPing = false
        var expiredSubscriptions: [String] = []
        let verdict = state.withLock { state -> Disconnect? in
            state.tickAt = nil
            guard state.closing == nil, state.phase != .closed else { return nil }
            if state.phase == .awaitingConnect || state.phase == .refused, now >= state.connectBy { return .stale }
            if let due = state.pongDue, now >= due { return .noPong }
            if let expiry = state.expiresAt, now >= expiry { return .expired }
            if let ping = state.nextPing, now >= ping {
                sendPing = true
                state.queue.append(.line(Replies.ping))
                // A fixed timer: the next ping is due an interval after this one, whatever else flowed.
                state.nextPing = ping + configuration.pingInterval
                if state.pongDue == nil { state.pongDue = now + configuration.pongTimeout }
                // A client that reads nothing fills its queue with pings too.
                if isOverLimit(state.queue) { return .slow }
            }
            for (channel, subscription) in state.subscriptions {
                if let end = subscription.endsAt, now >= end { expiredSubscriptions.append(channel) }
            }
            for channel in expiredSubscriptions { state.subscriptions[channel] = nil }
            return nil
        }
        if let verdict {
            disconnect(verdict)
            return
        }
        for channel in expiredSubscriptions {
            hub.unsubscribe(self, from: channel)
            send(Replies.unsubscribePush(channel: channel, code: 2501, reason: "subscription expired"))
        }
        if sendPing { transport.requestWrite() }
        scheduleTick()
    }

    public func closed() {
        let channels = state.withLock { state -> [String] in
            state.phase = .closed
            state.queue.removeAll()
            defer { state.subscriptions = [:] }
            return Array(state.subscriptions.keys)
        }
        for channel in channels { hub.unsubscribe(self, from: channel) }
        registry?.remove(self)
    }

    // MARK: - ChannelSubscriber

    public func channel(_ name: String, didPublish publication: Publication) {
        var wake = false
        let overflow = state.withLock { state -> Bool in
            guard state.closing == nil, state.phase == .connected, state.subscriptions[name] != nil else { return false }
            let behind =
                state.queue.bytes * 2 > configuration.maxQueuedBytes || state.queue.count * 2 > configuration.maxQueuedMessages
            wake = state.queue.isEmpty
            state.queue.append(publication, mergingDeltas: behind)
            return isOverLimit(state.queue)
        }
        if overflow {
            // Too far behind to catch up: close rather than let one reader hold memory (3008;
            // the SDK reconnects and recovers from history).
            disconnect(.slow)
        } else if wake {
            transport.requestWrite()
        }
    }

    // MARK: - Shared helpers

    var isClosing: Bool { state.withLock { $0.closing != nil || $0.phase == .closed } }

    /// Queues a line and asks for a write. Replies count against the same bounds as
    /// publications: a client that keeps asking (history, presence) and never reads is as slow
    /// as one that cannot keep up, and is closed the same way (3008).
    func send(_ line: [UInt8]) {
        let (wake, overflow) = state.withLock { state -> (Bool, Bool) in
            guard state.closing == nil, state.phase != .closed else { return (false, false) }
            let wake = state.queue.isEmpty
            state.queue.append(.line(line))
            return (wake, isOverLimit(state.queue))
        }
        if overflow {
            disconnect(.slow)
        } else if wake {
            transport.requestWrite()
        }
    }

    func isOverLimit(_ queue: OutboundQueue) -> Bool {
        queue.bytes > configuration.maxQueuedBytes || queue.count > configuration.maxQueuedMessages
    }

    /// Closes the connection with a code: queued output is dropped, the close frame goes next.
    public func disconnect(_ disconnect: Disconnect) {
        let first = state.withLock { state -> Bool in
            guard state.closing == nil, state.phase != .closed else { return false }
            state.closing = disconnect
            state.queue.removeAll()
            return true
        }
        if first {
            if disconnect == .slow { registry?.noteSlow() }
            transport.close(disconnect)
        }
    }

    func scheduleTick() {
        let now = ContinuousClock.now
        let delay = state.withLock { state -> Duration? in
            guard state.closing == nil, state.phase != .closed else { return nil }
            var next: ContinuousClock.Instant? = state.phase == .awaitingConnect || state.phase == .refused ? state.connectBy : nil
            for candidate in [state.nextPing, state.pongDue, state.expiresAt] + state.subscriptions.values.map(\.endsAt) {
                if let candidate { next = min(next ?? candidate, candidate) }
            }
            guard let next, state.tickAt != next else { return nil }
            state.tickAt = next
            return max(.milliseconds(1), next - now)
        }
        if let delay { transport.scheduleTick(after: delay) }
    }

    func updateInfo(user: String, connInfo: [UInt8]?) {
        info.withLock { $0 = ClientInfo(client: clientID, user: user, connInfo: connInfo) }
    }

    static func unixNow() -> Int64 { Int64(time(nil)) }
}
