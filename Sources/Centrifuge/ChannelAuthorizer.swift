import BridgeCore

/// Who a connection is, once its connect was accepted.
public struct Identity: Sendable, Equatable {
    /// `""` is anonymous.
    public var user: String
    /// Raw JSON for presence (`conn_info`).
    public var info: [UInt8]?
    /// Unix seconds after which the connection must refresh its token; nil never expires.
    public var expiresAt: Int64?
    /// Channels the server subscribes the connection to at connect (the token's `channels` claim).
    public var channels: [String]

    public init(user: String = "", info: [UInt8]? = nil, expiresAt: Int64? = nil, channels: [String] = []) {
        self.user = user
        self.info = info
        self.expiresAt = expiresAt
        self.channels = channels
    }
}

public enum ConnectDecision: Sendable, Equatable {
    case accept(Identity)
    /// A reply error (109 makes the SDK fetch a new token).
    case reject(ReplyError)
    /// A close (3500 invalid token, 3501 no credentials).
    case disconnect(Disconnect)
}

public enum SubscribeDecision: Sendable, Equatable {
    /// Allowed; `info` goes to presence as `chan_info`, `expiresAt` asks for `sub_refresh`.
    case allow(info: [UInt8]?, expiresAt: Int64?)
    case reject(ReplyError)
    case disconnect(Disconnect)
}

/// The access rules: who may connect, subscribe, publish and read.
public protocol ChannelAuthorizer: Sendable {
    func authorizeConnect(token: String, now: Int64) -> ConnectDecision
    /// `refresh` with a new connection token, for the same user.
    func authorizeRefresh(token: String, identity: Identity, now: Int64) -> ConnectDecision
    func authorizeSubscribe(channel: String, token: String, identity: Identity, client: String, now: Int64) -> SubscribeDecision
    func mayPublish(channel: String, identity: Identity) -> Bool
}

/// Anyone may connect and subscribe; client publishes only into namespaces that allow them.
public struct InsecureAuthorizer: ChannelAuthorizer {
    /// Namespaces (`ns` of `ns:rest`) clients may publish into.
    public var publishNamespaces: Set<String>

    public init(publishNamespaces: Set<String> = []) {
        self.publishNamespaces = publishNamespaces
    }

    public func authorizeConnect(token: String, now: Int64) -> ConnectDecision { .accept(Identity()) }

    public func authorizeRefresh(token: String, identity: Identity, now: Int64) -> ConnectDecision { .accept(identity) }

    public func authorizeSubscribe(channel: String, token: String, identity: Identity, client: String, now: Int64) -> SubscribeDecision {
        .allow(info: nil, expiresAt: nil)
    }

    public func mayPublish(channel: String, identity: Identity) -> Bool {
        ChannelName.namespace(of: channel).map { publishNamespaces.contains($0) } ?? false
    }
}

/// Channel name rules, as Centrifugo's.
public enum ChannelName {
    public static let maximumLength = 255

    /// `ns` of `ns:rest`; nil for a name without namespace.
    public static func namespace(of channel: String) -> String? {
        guard let colon = channel.firstIndex(of: ":") else { return nil }
        return String(channel[..<colon])
    }

    /// Non-empty (else the command is a bad request), ASCII and at most 255 bytes (else 107).
    public static func isValid(_ channel: String) -> Bool {
        channel.utf8.count <= maximumLength && channel.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }
}
