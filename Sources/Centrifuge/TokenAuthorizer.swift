import BridgeCore

/// `channels.auth.mode: token`: connections and subscriptions prove themselves with JWTs.
///
/// - A connection token (`sub`, `exp`, `nbf`, `info`, `channels`) names the user. Without one a
///   connection is anonymous when stream channels are open to anonymous users, else refused (3501).
/// - Stream channels (`<prefix><uid>`): anyone connected when `allowAnonymousStreams`, else
///   authenticated users or a subscription token.
/// - Other channels: authenticated users; `$`-private ones need a subscription token (`sub`,
///   `channel`, `exp`, optional `client`).
public struct TokenAuthorizer: ChannelAuthorizer {
    public let verifier: JWTVerifier
    public let streamPrefix: String
    public let allowAnonymousStreams: Bool
    public let publishNamespaces: Set<String>

    public init(verifier: JWTVerifier, streamPrefix: String, allowAnonymousStreams: Bool, publishNamespaces: Set<String> = []) {
        self.verifier = verifier
        self.streamPrefix = streamPrefix
        self.allowAnonymousStreams = allowAnonymousStreams
        self.publishNamespaces = publishNamespaces
    }

    public func authorizeConnect(token: String, now: Int64) -> ConnectDecision {
        guard !token.isEmpty else {
            // Centrifugo's answer when no credentials were given and anonymous access is off.
            return allowAnonymousStreams ? .accept(Identity()) : .disconnect(.badRequest)
        }
        switch verifier.verify(token, now: now) {
        case .failure(.expired): return .reject(.tokenExpired)
        case .failure(.invalid): return .disconnect(.invalidToken)
        case .success(let claims):
            // A connection token must not carry a `channel` claim: that is a subscription token.
            guard claims["channel"] == nil else { return .disconnect(.invalidToken) }
            guard let identity = Self.identity(claims) else { return .disconnect(.invalidToken) }
            return .accept(identity)
        }
    }

    public func authorizeRefresh(token: String, identity: Identity, now: Int64) -> ConnectDecision {
        switch authorizeConnect(token: token, now: now) {
        case .accept(let renewed) where renewed.user == identity.user: return .accept(renewed)
        case .accept: return .disconnect(.invalidToken)
        case let other: return other
        }
    }

    public func authorizeSubscribe(channel: String, token: String, identity: Identity, client: String, now: Int64) -> SubscribeDecision {
        if !token.isEmpty { return subscriptionToken(token, channel: channel, identity: identity, client: client, now: now) }
        if channel.hasPrefix("$") { return .reject(.permissionDenied) }
        if channel.hasPrefix(streamPrefix), allowAnonymousStreams || !identity.user.isEmpty { return .allow(info: nil, expiresAt: nil) }
        return identity.user.isEmpty ? .reject(.permissionDenied) : .allow(info: nil, expiresAt: nil)
    }

    public func mayPublish(channel: String, identity: Identity) -> Bool {
        guard !identity.user.isEmpty else { return false }
        return ChannelName.namespace(of: channel).map { publishNamespaces.contains($0) } ?? false
    }

    private func subscriptionToken(_ token: String, channel: String, identity: Identity, client: String, now: Int64) -> SubscribeDecision {
        switch verifier.verify(token, now: now) {
        case .failure(.expired): return .reject(.tokenExpired)
        case .failure(.invalid): return .reject(.permissionDenied)
        case .success(let claims):
            // Centrifugo closes the connection when a valid token was made for someone else.
            guard claims["channel"]?.stringValue == channel else { return .disconnect(.invalidToken) }
            guard (claims["sub"]?.stringValue ?? "") == identity.user else { return .disconnect(.invalidToken) }
            if let bound = claims["client"]?.stringValue, bound != client { return .disconnect(.invalidToken) }
            return .allow(info: claims["info"].map { $0.jsonBytes }, expiresAt: Self.expiry(claims))
        }
    }

    static func identity(_ claims: JSONObject) -> Identity? {
        var identity = Identity()
        if let sub = claims["sub"], !sub.isNull {
            guard let user = sub.stringValue else { return nil }
            identity.user = user
        }
        identity.info = claims["info"].map { $0.jsonBytes }
        identity.expiresAt = expiry(claims)
        if let channels = claims["channels"], !channels.isNull {
            guard let list = channels.arrayValue?.compactMap(\.stringValue) else { return nil }
            identity.channels = list
        }
        return identity
    }

    /// `expire_at` overrides `exp` (0 means never); else `exp`.
    static func expiry(_ claims: JSONObject) -> Int64? {
        if let expireAt = claims["expire_at"]?.doubleValue { return expireAt > 0 ? unixSeconds(expireAt) : nil }
        return claims["exp"]?.doubleValue.map(unixSeconds)
    }

    /// A claim's time as whole seconds, within ±1e15 (31 million years) so that no later
    /// arithmetic on it can overflow, whatever a token says.
    static func unixSeconds(_ value: Double) -> Int64 {
        Int64(min(max(value, -1e15), 1e15))
    }
}
