import BridgeCore

extension ClientSession {
    /// One command, with Centrifugo's rules: connect first and once; ids on everything but pongs.
    func handle(_ command: ClientCommand) {
        let phase = state.withLock { $0.phase }
        if case .pong = command.request {
            guard command.id == 0 else {
                // An id with no known method: not a command this protocol has.
                disconnect(.badRequest)
                return
            }
            state.withLock { $0.pongDue = nil }
            scheduleTick()
            return
        }
        if case .send = command.request {
            // Async messages need an id-less path this server does not offer; before connect it
            // is simply not a connect.
            disconnect(phase == .connected ? .notAvailable : .badRequest)
            return
        }
        guard command.id > 0 else {
            disconnect(.badRequest)
            return
        }
        switch (phase, command.request) {
        case (.awaitingConnect, .connect(let request)):
            connect(command.id, request)
        case (.awaitingConnect, _), (.connected, .connect), (.refused, _):
            disconnect(.badRequest)
        case (.closed, _):
            return
        case (.connected, .subscribe(let request)):
            subscribe(command.id, request)
        case (.connected, .unsubscribe(let channel)):
            unsubscribe(command.id, channel: channel)
        case (.connected, .publish(let channel, let data)):
            publish(command.id, channel: channel, data: data)
        case (.connected, .history(let request)):
            history(command.id, request)
        case (.connected, .presence(let channel)):
            presence(command.id, channel: channel, stats: false)
        case (.connected, .presenceStats(let channel)):
            presence(command.id, channel: channel, stats: true)
        case (.connected, .rpc(let method, let data)):
            rpc(command.id, method: method, data: data)
        case (.connected, .refresh(let token)):
            refresh(command.id, token: token)
        case (.connected, .subRefresh(let channel, let token)):
            subRefresh(command.id, channel: channel, token: token)
        case (.connected, .ping):
            send(Replies.error(command.id, .notAvailable))
        case (.connected, .send), (.connected, .pong):
            return
        }
    }

    // MARK: - connect / refresh

    private func connect(_ id: UInt32, _ request: ConnectRequest) {
        let now = Self.unixNow()
        switch authorizer.authorizeConnect(token: request.token, now: now) {
        case .disconnect(let reason):
            disconnect(reason)
        case .reject(let error):
            state.withLock { $0.phase = .refused }
            send(Replies.error(id, error))
        case .accept(let identity):
            updateInfo(user: identity.user, connInfo: identity.info)
            let expiresIn = identity.expiresAt.map { Int($0 - now) }
            state.withLock { state in
                state.phase = .connected
                state.identity = identity
                state.nextPing = .now + configuration.pingInterval
                state.expiresAt = expiresIn.map { .now + .seconds(max(0, $0)) + configuration.expiredCloseDelay }
            }
            registry?.connected(self)
            // Server-side subscriptions (the token's `channels`) are made first, so their
            // results ride in the connect reply and their publications follow it.
            var subs: [(channel: String, result: [UInt8])] = []
            var lines: [[UInt8]] = []
            // Each once, and no more than a client could subscribe to itself.
            var seen = Set<String>()
            let serverSide = identity.channels.filter { ChannelName.isValid($0) && !$0.isEmpty && seen.insert($0).inserted }
            for channel in serverSide.prefix(configuration.maxSubscriptions) {
                let position = request.subs[channel]
                let request = SubscribeRequest(channel: channel, recover: position != nil, position: position)
                if let result = joinChannel(request, chanInfo: nil, expiresAt: nil, subscribeReply: nil) {
                    subs.append((channel, result))
                } else {
                    lines.append(Replies.unsubscribePush(channel: channel, code: 2000, reason: "server unsubscribe"))
                }
            }
            let reply = Replies.connect(
                id, client: clientID, version: configuration.serverVersion, ping: Int(configuration.pingInterval.components.seconds),
                expiresIn: expiresIn, data: nil, subs: subs)
            prepend(reply)
            for line in lines { send(line) }
            scheduleTick()
        }
    }

    private func refresh(_ id: UInt32, token: String) {
        let now = Self.unixNow()
        let identity = state.withLock { $0.identity }
        switch authorizer.authorizeRefresh(token: token, identity: identity, now: now) {
        case .disconnect(let reason):
            disconnect(reason)
        case .reject(let error):
            send(Replies.error(id, error))
        case .accept(let renewed):
            let expiresIn = renewed.expiresAt.map { Int($0 - now) }
            state.withLock { state in
                state.identity.expiresAt = renewed.expiresAt
                state.expiresAt = expiresIn.map { .now + .seconds(max(0, $0)) + configuration.expiredCloseDelay }
            }
            send(Replies.refresh(id, client: clientID, version: configuration.serverVersion, expiresIn: expiresIn))
            scheduleTick()
        }
    }

    // MARK: - publish, history, presence, rpc

    private func publish(_ id: UInt32, channel: String, data: JSONValue) {
        guard !channel.isEmpty else { return disconnect(.badRequest) }
        guard ChannelName.isValid(channel) else { return send(Replies.error(id, .badRequest)) }
        let identity = state.withLock { $0.identity }
        guard authorizer.mayPublish(channel: channel, identity: identity) else {
            return send(Replies.error(id, .permissionDenied))
        }
        hub.publish(channel: channel, data: data.jsonBytes)
        send(Replies.empty(id, "publish"))
    }

    /// History and presence are for subscribers of the channel.
    private func mayRead(_ channel: String) -> Bool {
        state.withLock { $0.subscriptions[channel].map { !$0.pending } ?? false }
    }

    private func history(_ id: UInt32, _ request: HistoryRequest) {
        guard !request.channel.isEmpty else { return disconnect(.badRequest) }
        guard mayRead(request.channel) else { return send(Replies.error(id, .permissionDenied)) }
        switch hub.history(channel: request.channel, limit: request.limit, since: request.since, reverse: request.reverse) {
        case .success(let page): send(Replies.history(id, page))
        case .failure(let error): send(Replies.error(id, error))
        }
    }

    private func presence(_ id: UInt32, channel: String, stats: Bool) {
        guard !channel.isEmpty else { return disconnect(.badRequest) }
        guard mayRead(channel) else { return send(Replies.error(id, .permissionDenied)) }
        let clients = hub.presence(channel: channel)
        if stats {
            send(Replies.presenceStats(id, clients: clients.count, users: Set(clients.map(\.user)).count))
        } else {
            send(Replies.presence(id, clients))
        }
    }

    private func rpc(_ id: UInt32, method: String, data: JSONValue) {
        guard let rpcHandler else { return send(Replies.error(id, .methodNotFound)) }
        switch rpcHandler(method, data, self) {
        case .success(let result): send(Replies.rpc(id, data: result))
        case .failure(let error): send(Replies.error(id, error))
        }
    }

    /// Puts a line in front of everything queued: the connect reply must precede the publications
    /// of the server-side subscriptions it announces.
    private func prepend(_ line: [UInt8]) {
        let wake = state.withLock { state -> Bool in
            guard state.closing == nil else { return false }
            var queue = OutboundQueue()
            queue.append(.line(line))
            while let frame = state.queue.takeFrame(limit: .max) {
                for part in frame.split(separator: UInt8(ascii: "\n")) { queue.append(.line(Array(part))) }
            }
            state.queue = queue
            return true
        }
        if wake { transport.requestWrite() }
    }
}

extension SubscribeRequest {
    /// A server-side subscription made at connect.
    init(channel: String, recover: Bool, position: StreamPosition?) {
        self.channel = channel
        token = ""
        self.recover = recover
        offset = position?.offset ?? 0
        epoch = position?.epoch ?? ""
        flag = 0
        data = nil
    }
}
