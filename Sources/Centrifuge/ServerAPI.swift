import BridgeCore
import Glibc

/// Centrifugo's server API on the embedded hub: publish into any channel, broadcast, history,
/// presence, channels, info, batch, disconnect and unsubscribe. No I/O: the HTTP adapter maps the
/// results onto responses.
public struct ServerAPI: Sendable {
    public let hub: ChannelHub
    public let registry: ClientRegistry
    public let nodeName: String
    public let version: String
    private let startedAt = ContinuousClock.now

    public init(hub: ChannelHub, registry: ClientRegistry, nodeName: String = "tokenbridge", version: String = "tokenbridge") {
        self.hub = hub
        self.registry = registry
        self.nodeName = nodeName
        self.version = version
    }

    /// The methods `POST /api/<method>` and the legacy `{"method": …}` form accept.
    public static let methods: Set<String> = [
        "publish", "broadcast", "history", "history_remove", "presence", "presence_stats", "channels", "info", "batch",
        "disconnect", "unsubscribe",
    ]

    /// One call: the `result` object's JSON, or an error. `batch` answers with its own shape, see `batch`.
    public func call(_ method: String, _ params: JSONObject) -> Result<[UInt8], ReplyError> {
        switch method {
        case "publish": return publish(params)
        case "broadcast": return broadcast(params)
        case "history": return history(params)
        case "history_remove": return historyRemove(params)
        case "presence": return presence(params, stats: false)
        case "presence_stats": return presence(params, stats: true)
        case "channels": return channels(params)
        case "info": return info()
        case "disconnect": return disconnect(params)
        case "unsubscribe": return unsubscribe(params)
        default: return .failure(.methodNotFound)
        }
    }

    /// `{"commands":[{"publish":{…}}, …]}` → `{"replies":[{"publish":{…}} | {"error":{…}}, …]}`
    /// (no `result` wrapper, as Centrifugo answers a batch).
    public func batch(_ params: JSONObject) -> Result<[UInt8], ReplyError> {
        guard let commands = params["commands"]?.arrayValue else { return .failure(.badRequest) }
        var writer = JSONWriter(capacity: 64 + commands.count * 48)
        writer.beginObject()
        writer.key("replies")
        writer.beginArray()
        for command in commands {
            guard let object = command.objectValue, let (method, body) = object.entries.first, object.count == 1,
                let fields = body.objectValue, method != "batch"
            else {
                Self.writeError(.badRequest, to: &writer)
                continue
            }
            switch call(method, fields) {
            case .success(let result):
                writer.beginObject()
                writer.key(method)
                writer.raw(result)
                writer.endObject()
            case .failure(let error):
                Self.writeError(error, to: &writer)
            }
        }
        writer.endArray()
        writer.endObject()
        return .success(writer.bytes)
    }

    static func writeError(_ error: ReplyError, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("error")
        writeBareError(error, to: &writer)
        writer.endObject()
    }

    /// `{"code":…,"message":…}`.
    public static func writeBareError(_ error: ReplyError, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("code")
        writer.int(error.code)
        writer.key("message")
        writer.string(error.message)
        writer.endObject()
    }

    // MARK: - Methods

    private func publish(_ params: JSONObject) -> Result<[UInt8], ReplyError> {
        publishOne(channel: params["channel"]?.stringValue ?? "", params).map { position in
            Self.position(position)
        }
    }

    private func publishOne(channel: String, _ params: JSONObject) -> Result<StreamPosition, ReplyError> {
        guard !channel.isEmpty, ChannelName.isValid(channel) else { return .failure(.badRequest) }
        let data: [UInt8]
        if let encoded = params["b64data"]?.stringValue, !encoded.isEmpty {
            // Clients here speak JSON, where data is embedded JSON: the bytes must be JSON too.
            guard let decoded = Base64Standard.decode(encoded), (try? JSONParser.parse(decoded)) != nil else {
                return .failure(.badRequest)
            }
            data = decoded
        } else if let value = params["data"] {
            data = value.jsonBytes
        } else {
            return .failure(.badRequest)
        }
        var tags: [(key: String, value: String)] = []
        if let raw = params["tags"], !raw.isNull {
            guard let object = raw.objectValue else { return .failure(.badRequest) }
            for (key, value) in object {
                guard let text = value.stringValue else { return .failure(.badRequest) }
                tags.append((key, text))
            }
        }
        let key = params["idempotency_key"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let skip = params["skip_history"]?.boolValue ?? false
        return .success(hub.publish(channel: channel, data: data, tags: tags, idempotencyKey: key, skipHistory: skip))
    }

    private func broadcast(_ params: JSONObject) -> Result<[UInt8], ReplyError> {
        guard let channels = params["channels"]?.arrayValue, !channels.isEmpty else { return .failure(.badRequest) }
        var writer = JSONWriter(capacity: 64 + channels.count * 40)
        writer.beginObject()
        writer.key("responses")
        writer.beginArray()
        for channel in channels {
            switch publishOne(channel: channel.stringValue ?? "", params) {
            case .success(let position):
                writer.beginObject()
                writer.key("result")
                writer.raw(Self.position(position))
                writer.endObject()
            case .failure(let error):
                Self.writeError(error, to: &writer)
            }
        }
        writer.endArray()
        writer.endObject()
        return .success(writer.bytes)
    }

    private func history(_ params: JSONObject) -> Result<[UInt8], ReplyError> {
        guard let channel = params["channel"]?.stringValue, !channel.isEmpty else { return .failure(.badRequest) }
        var since: StreamPosition?
        if let raw = params["since"]?.objectValue {
            since = StreamPosition(offset: UInt64(clamping: raw["offset"]?.intValue ?? 0), epoch: raw["epoch"]?.stringValue ?? "")
        }
        let limit = params["limit"]?.intValue ?? 0
        return hub.history(channel: channel, limit: limit, since: since, reverse: params["reverse"]?.boolValue ?? false).map { page in
            var writer = JSONWriter(capacity: 64 + page.publications.reduce(0) { $0 + $1.data.count + 24 })
            Replies.writeHistory(page, to: &writer)
            return writer.bytes
        }
    }

    private func historyRemove(_ params: JSONObject) -> Result<[UInt8], ReplyError> {
        guard let channel = params["channel"]?.stringValue, !channel.isEmpty else { return .failure(.badRequest) }
        hub.removeHistory(channel: channel)
        return .success(Array("{}".utf8))
    }

    private func presence(_ params: JSONObject, stats: Bool) -> Result<[UInt8], ReplyError> {
        guard let channel = params["channel"]?.stringValue, !channel.isEmpty else { return .failure(.badRequest) }
        let clients = hub.presence(channel: channel)
        var writer = JSONWriter(capacity: 64 + clients.count * 96)
        if stats {
            writer.beginObject()
            writer.key("num_clients")
            writer.int(clients.count)
            writer.key("num_users")
            writer.int(Set(clients.map(\.user)).count)
            writer.endObject()
        } else {
            Replies.writePresence(clients, to: &writer)
        }
        return .success(writer.bytes)
    }

    private func channels(_ params: JSONObject) -> Result<[UInt8], ReplyError> {
        let pattern = params["pattern"]?.stringValue ?? ""
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("channels")
        writer.beginObject()
        for (name, clients) in hub.activeChannels().sorted(by: { $0.name < $1.name }) where Glob.matches(pattern, name) {
            writer.key(name)
            writer.beginObject()
            writer.key("num_clients")
            writer.int(clients)
            writer.endObject()
        }
        writer.endObject()
        writer.endObject()
        return .success(writer.bytes)
    }

    private func info() -> Result<[UInt8], ReplyError> {
        let sessions = registry.all()
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("nodes")
        writer.beginArray()
        writer.beginObject()
        writer.key("uid")
        writer.string(nodeName + "-" + String(getpid()))
        writer.key("name")
        writer.string(nodeName)
        writer.key("version")
        writer.string(version)
        writer.key("num_clients")
        writer.int(sessions.count)
        writer.key("num_users")
        writer.int(Set(sessions.map(\.user)).count)
        writer.key("num_channels")
        writer.int(hub.channelCount)
        writer.key("uptime")
        writer.int(Int((ContinuousClock.now - startedAt).components.seconds))
        writer.key("num_subs")
        writer.int(sessions.reduce(0) { $0 + $1.subscribedChannels.count })
        writer.endObject()
        writer.endArray()
        writer.endObject()
        return .success(writer.bytes)
    }

    private func disconnect(_ params: JSONObject) -> Result<[UInt8], ReplyError> {
        guard let user = params["user"]?.stringValue else { return .failure(.badRequest) }
        let client = params["client"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        var reason = Disconnect.forceDisconnect
        if let custom = params["disconnect"]?.objectValue {
            guard let code = custom["code"]?.intValue, let code16 = UInt16(exactly: code), code16 >= 3000 else { return .failure(.badRequest) }
            reason = Disconnect(code: code16, reason: custom["reason"]?.stringValue ?? "")
        }
        for session in registry.sessions(user: user, client: client) { session.disconnect(reason) }
        return .success(Array("{}".utf8))
    }

    private func unsubscribe(_ params: JSONObject) -> Result<[UInt8], ReplyError> {
        guard let user = params["user"]?.stringValue, let channel = params["channel"]?.stringValue, !channel.isEmpty else {
            return .failure(.badRequest)
        }
        let client = params["client"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        for session in registry.sessions(user: user, client: client) { session.serverUnsubscribe(channel: channel) }
        return .success(Array("{}".utf8))
    }

    private static func position(_ position: StreamPosition) -> [UInt8] {
        var writer = JSONWriter(capacity: 48)
        writer.beginObject()
        if position.offset > 0 {
            writer.key("offset")
            writer.int(Int(clamping: position.offset))
            writer.key("epoch")
            writer.string(position.epoch)
        }
        writer.endObject()
        return writer.bytes
    }
}

/// `*` (any run of characters) and `?` (one character), as channel patterns use them.
enum Glob {
    static func matches(_ pattern: String, _ name: String) -> Bool {
        guard !pattern.isEmpty else { return true }
        let pattern = Array(pattern.utf8)
        let name = Array(name.utf8)
        var p = 0
        var n = 0
        var star = -1
        var mark = 0
        while n < name.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == name[n] {
                p += 1
                n += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                mark = n
                p += 1
            } else if star >= 0 {
                p = star + 1
                mark += 1
                n = mark
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}

/// Standard base64 (with `+` and `/`), for the API's `b64data`.
enum Base64Standard {
    static func decode(_ text: String) -> [UInt8]? {
        let translated = text.utf8.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "+"): return UInt8(ascii: "-")
            case UInt8(ascii: "/"): return UInt8(ascii: "_")
            default: return byte
            }
        }
        return Base64URL.decode(translated)
    }
}
