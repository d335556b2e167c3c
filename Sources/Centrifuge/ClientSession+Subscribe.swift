import BridgeCore

extension ClientSession {
    func subscribe(_ id: UInt32, _ request: SubscribeRequest) {
        let channel = request.channel
        guard !channel.isEmpty else { return disconnect(.badRequest) }
        guard ChannelName.isValid(channel) else { return send(Replies.error(id, .badRequest)) }
        let reserved = state.withLock { state -> ReplyError? in
            if state.subscriptions[channel] != nil { return .alreadySubscribed }
            if state.subscriptions.count >= configuration.maxSubscriptions { return .limitExceeded }
            state.subscriptions[channel] = Subscription(pending: true)
            return nil
        }
        if let reserved { return send(Replies.error(id, reserved)) }
        let identity = state.withLock { $0.identity }
        let now = Self.unixNow()
        switch authorizer.authorizeSubscribe(channel: channel, token: request.token, identity: identity, client: clientID, now: now) {
        case .disconnect(let reason):
            disconnect(reason)
        case .reject(let error):
            state.withLock { $0.subscriptions[channel] = nil }
            send(Replies.error(id, error))
        case .allow(let chanInfo, let expiresAt):
            _ = joinChannel(request, chanInfo: chanInfo, expiresAt: expiresAt, subscribeReply: id)
        }
    }

    /// Subscribes with the hub; the reply (or, for a connect-time subscription, the result to
    /// return) is queued under the channel's lock, so it precedes every live publication.
    ///
    /// - Returns: the subscribe result for `connect.subs`, when `subscribeReply` is nil and it
    ///   succeeded.
    @discardableResult
    func joinChannel(_ request: SubscribeRequest, chanInfo: [UInt8]?, expiresAt: Int64?, subscribeReply id: UInt32?) -> [UInt8]? {
        let channel = request.channel
        let now = Self.unixNow()
        let expiresIn = expiresAt.map { Int($0 - now) }
        var result: [UInt8]?
        var wake = false
        hub.subscribe(self, to: channel, recover: request.recover ? StreamPosition(offset: request.offset, epoch: request.epoch) : nil) {
            outcome in
            state.withLock { state in
                guard state.closing == nil, state.phase != .closed else { return }
                if request.recover, !outcome.recovered, request.rejectsUnrecovered {
                    // Flag bit 2: the client would rather hear it cannot recover than start over silently.
                    state.subscriptions[channel] = nil
                    if let id { state.queue.append(.line(Replies.error(id, .unrecoverablePosition))) }
                    wake = true
                    return
                }
                state.subscriptions[channel] = Subscription(
                    chanInfo: chanInfo, expiresAt: expiresAt, endsAt: endsAt(expiresIn), pending: false)
                let body = Replies.subscribeResult(outcome, recovering: request.recover, expiresIn: expiresIn)
                if let id {
                    wake = state.queue.isEmpty
                    state.queue.append(.line(Replies.subscribe(id, result: body)))
                } else {
                    result = body
                }
            }
        }
        let kept = state.withLock { $0.subscriptions[channel].map { !$0.pending } ?? false }
        if !kept { hub.unsubscribe(self, from: channel) }
        if wake { transport.requestWrite() }
        if kept, expiresAt != nil { scheduleTick() }
        return result
    }

    /// When a subscription whose token expires in `expiresIn` seconds ends without a refresh.
    private func endsAt(_ expiresIn: Int?) -> ContinuousClock.Instant? {
        expiresIn.map { .now + .seconds(max(0, $0)) + configuration.expiredCloseDelay }
    }

    func unsubscribe(_ id: UInt32, channel: String) {
        guard !channel.isEmpty else { return disconnect(.badRequest) }
        let wasSubscribed = state.withLock { $0.subscriptions.removeValue(forKey: channel) != nil }
        if wasSubscribed { hub.unsubscribe(self, from: channel) }
        // Always answered: an unanswered unsubscribe makes the SDKs reconnect.
        send(Replies.empty(id, "unsubscribe"))
    }

    func subRefresh(_ id: UInt32, channel: String, token: String) {
        guard !channel.isEmpty else { return disconnect(.badRequest) }
        let (identity, subscribed) = state.withLock { ($0.identity, $0.subscriptions[channel] != nil) }
        guard subscribed else { return send(Replies.error(id, .permissionDenied)) }
        let now = Self.unixNow()
        switch authorizer.authorizeSubscribe(channel: channel, token: token, identity: identity, client: clientID, now: now) {
        case .disconnect(let reason):
            disconnect(reason)
        case .reject(let error):
            send(Replies.error(id, error))
        case .allow(_, let expiresAt):
            let expiresIn = expiresAt.map { Int($0 - now) }
            state.withLock { state in
                state.subscriptions[channel]?.expiresAt = expiresAt
                state.subscriptions[channel]?.endsAt = endsAt(expiresIn)
            }
            send(Replies.subRefresh(id, expiresIn: expiresIn))
            scheduleTick()
        }
    }

    /// The server ends one subscription (API `unsubscribe`): an unsubscribe push, code 2000.
    public func serverUnsubscribe(channel: String) {
        let was = state.withLock { $0.subscriptions.removeValue(forKey: channel) != nil }
        guard was else { return }
        hub.unsubscribe(self, from: channel)
        send(Replies.unsubscribePush(channel: channel, code: 2000, reason: "server unsubscribe"))
    }
}
