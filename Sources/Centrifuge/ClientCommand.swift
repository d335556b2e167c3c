import BridgeCore

/// One command from a client, as protocol v2 JSON puts it: an `id` and exactly one request field
/// named after the method. A command with neither id nor request is a pong.
public struct ClientCommand: Sendable, Equatable {
    public enum Request: Sendable, Equatable {
        case connect(ConnectRequest)
        case subscribe(SubscribeRequest)
        case unsubscribe(channel: String)
        case publish(channel: String, data: JSONValue)
        case history(HistoryRequest)
        case presence(channel: String)
        case presenceStats(channel: String)
        case rpc(method: String, data: JSONValue)
        case refresh(token: String)
        case subRefresh(channel: String, token: String)
        case send(data: JSONValue)
        case ping
        /// `{}`: the answer to a server ping.
        case pong
    }

    public var id: UInt32
    public var request: Request

    /// Parses one line. Unknown keys are skipped (SDKs send `flag`, `tf`...); anything that is not
    /// a command object, or names no method the protocol knows, is an error (close 3501).
    public static func parse(_ line: some Collection<UInt8>) throws(Disconnect) -> ClientCommand {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            throw .badRequest
        }
        guard case .object(let object) = value else { throw .badRequest }
        var id: UInt32 = 0
        if let raw = object["id"], !raw.isNull {
            guard let number = raw.intValue, let exact = UInt32(exactly: number) else { throw .badRequest }
            id = exact
        }
        for (key, field) in object where key != "id" {
            guard let request = try request(named: key, field) else { continue }
            return ClientCommand(id: id, request: request)
        }
        return ClientCommand(id: id, request: .pong)
    }

    private static func request(named key: String, _ field: JSONValue) throws(Disconnect) -> Request? {
        func object() throws(Disconnect) -> JSONObject {
            if field.isNull { return JSONObject() }
            guard let object = field.objectValue else { throw .badRequest }
            return object
        }
        switch key {
        case "connect": return .connect(try ConnectRequest(try object()))
        case "subscribe": return .subscribe(try SubscribeRequest(try object()))
        case "unsubscribe": return .unsubscribe(channel: try string(try object(), "channel"))
        case "publish":
            let fields = try object()
            return .publish(channel: try string(fields, "channel"), data: fields["data"] ?? .null)
        case "history": return .history(try HistoryRequest(try object()))
        case "presence": return .presence(channel: try string(try object(), "channel"))
        case "presence_stats": return .presenceStats(channel: try string(try object(), "channel"))
        case "rpc":
            let fields = try object()
            return .rpc(method: try string(fields, "method"), data: fields["data"] ?? .null)
        case "refresh": return .refresh(token: try string(try object(), "token"))
        case "sub_refresh":
            let fields = try object()
            return .subRefresh(channel: try string(fields, "channel"), token: try string(fields, "token"))
        case "send": return .send(data: try object()["data"] ?? .null)
        case "ping": return .ping
        default:
            // A method this protocol does not have, next to known fields, is skipped; alone it
            // makes the command a pong, which the session refuses when it carries an id.
            return nil
        }
    }

    /// An optional string field: absent or null is "", another type is a bad request.
    static func string(_ object: JSONObject, _ key: String) throws(Disconnect) -> String {
        guard let value = object[key], !value.isNull else { return "" }
        guard let text = value.stringValue else { throw .badRequest }
        return text
    }

    static func bool(_ object: JSONObject, _ key: String) throws(Disconnect) -> Bool {
        guard let value = object[key], !value.isNull else { return false }
        guard let flag = value.boolValue else { throw .badRequest }
        return flag
    }

    static func integer(_ object: JSONObject, _ key: String) throws(Disconnect) -> Int {
        guard let value = object[key], !value.isNull else { return 0 }
        guard let number = value.intValue else { throw .badRequest }
        return number
    }
}

public struct ConnectRequest: Sendable, Equatable {
    public var token: String
    public var data: JSONValue?
    public var name: String
    public var version: String
    /// Server-side subscriptions to recover: channel → position.
    public var subs: [String: StreamPosition]

    init(_ fields: JSONObject) throws(Disconnect) {
        token = try ClientCommand.string(fields, "token")
        data = fields["data"].flatMap { $0.isNull ? nil : $0 }
        name = try ClientCommand.string(fields, "name")
        version = try ClientCommand.string(fields, "version")
        subs = [:]
        if let raw = fields["subs"], !raw.isNull {
            guard let object = raw.objectValue else { throw .badRequest }
            for (channel, entry) in object {
                guard let position = entry.objectValue else { throw .badRequest }
                subs[channel] = StreamPosition(
                    offset: UInt64(clamping: try ClientCommand.integer(position, "offset")),
                    epoch: try ClientCommand.string(position, "epoch"))
            }
        }
    }
}

public struct SubscribeRequest: Sendable, Equatable {
    public var channel: String
    public var token: String
    public var recover: Bool
    public var offset: UInt64
    public var epoch: String
    /// Bit 2: answer error 112 instead of `recovered: false`.
    public var flag: Int
    public var data: JSONValue?

    init(_ fields: JSONObject) throws(Disconnect) {
        channel = try ClientCommand.string(fields, "channel")
        token = try ClientCommand.string(fields, "token")
        recover = try ClientCommand.bool(fields, "recover")
        let offsetValue = try ClientCommand.integer(fields, "offset")
        guard offsetValue >= 0 else { throw .badRequest }
        offset = UInt64(offsetValue)
        epoch = try ClientCommand.string(fields, "epoch")
        flag = try ClientCommand.integer(fields, "flag")
        data = fields["data"].flatMap { $0.isNull ? nil : $0 }
    }

    public var rejectsUnrecovered: Bool { flag & 2 != 0 }
}

public struct HistoryRequest: Sendable, Equatable {
    public var channel: String
    public var limit: Int
    public var since: StreamPosition?
    public var reverse: Bool

    init(_ fields: JSONObject) throws(Disconnect) {
        channel = try ClientCommand.string(fields, "channel")
        limit = try ClientCommand.integer(fields, "limit")
        reverse = try ClientCommand.bool(fields, "reverse")
        if let raw = fields["since"], !raw.isNull {
            guard let position = raw.objectValue else { throw .badRequest }
            since = StreamPosition(
                offset: UInt64(clamping: try ClientCommand.integer(position, "offset")),
                epoch: try ClientCommand.string(position, "epoch"))
        }
    }
}

/// A place in a channel's stream: the last offset seen, in that epoch.
public struct StreamPosition: Sendable, Equatable {
    public var offset: UInt64
    public var epoch: String

    public init(offset: UInt64, epoch: String) {
        self.offset = offset
        self.epoch = epoch
    }
}
