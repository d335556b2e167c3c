import BridgeCore

/// The JSON lines the server sends, in protocol v2's shapes: snake_case names, raw JSON data,
/// zero values left out (but `connect.client` and `error.message` always there).
enum Replies {
    static let ping: [UInt8] = Array("{}".utf8)

    static func error(_ id: UInt32, _ error: ReplyError) -> [UInt8] {
        reply(id) { writer in
            writer.key("error")
            writer.beginObject()
            writer.key("code")
            writer.int(error.code)
            writer.key("message")
            writer.string(error.message)
            if error.temporary {
                writer.key("temporary")
                writer.bool(true)
            }
            writer.endObject()
        }
    }

    /// `{"id":N,"<method>":{}}`.
    static func empty(_ id: UInt32, _ method: String) -> [UInt8] {
        reply(id) { writer in
            writer.key(method)
            writer.beginObject()
            writer.endObject()
        }
    }

    static func connect(
        _ id: UInt32, client: String, version: String, ping: Int, expiresIn: Int?, data: JSONValue?,
        subs: [(channel: String, result: [UInt8])]
    ) -> [UInt8] {
        reply(id) { writer in
            writer.key("connect")
            writer.beginObject()
            writer.key("client")
            writer.string(client)
            writer.key("version")
            writer.string(version)
            if let data {
                writer.key("data")
                writer.value(data)
            }
            if !subs.isEmpty {
                writer.key("subs")
                writer.beginObject()
                for sub in subs {
                    writer.key(sub.channel)
                    writer.raw(sub.result)
                }
                writer.endObject()
            }
            writeExpiry(expiresIn, to: &writer)
            writer.key("ping")
            writer.int(ping)
            writer.key("pong")
            writer.bool(true)
            writer.endObject()
        }
    }

    /// The body of a subscribe result (also used inside `connect.subs`).
    static func subscribeResult(_ outcome: SubscribeOutcome, recovering: Bool, expiresIn: Int?) -> [UInt8] {
        var writer = JSONWriter(capacity: 96 + outcome.publications.reduce(0) { $0 + $1.data.count + 24 })
        writer.beginObject()
        writeExpiry(expiresIn, to: &writer)
        writer.key("recoverable")
        writer.bool(true)
        writer.key("epoch")
        writer.string(outcome.epoch)
        if !outcome.publications.isEmpty {
            writer.key("publications")
            writer.beginArray()
            for publication in outcome.publications { publication.write(to: &writer) }
            writer.endArray()
        }
        if outcome.recovered {
            writer.key("recovered")
            writer.bool(true)
        }
        if outcome.offset > 0 {
            writer.key("offset")
            writer.int(Int(clamping: outcome.offset))
        }
        writer.key("positioned")
        writer.bool(true)
        if recovering {
            writer.key("was_recovering")
            writer.bool(true)
        }
        writer.endObject()
        return writer.bytes
    }

    static func subscribe(_ id: UInt32, result: [UInt8]) -> [UInt8] {
        reply(id) { writer in
            writer.key("subscribe")
            writer.raw(result)
        }
    }

    static func history(_ id: UInt32, _ page: HistoryPage) -> [UInt8] {
        reply(id) { writer in
            writer.key("history")
            writeHistory(page, to: &writer)
        }
    }

    /// `publications`, `epoch` and `offset` are always written, as Centrifugo does.
    static func writeHistory(_ page: HistoryPage, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("publications")
        writer.beginArray()
        for publication in page.publications { publication.write(to: &writer) }
        writer.endArray()
        writer.key("epoch")
        writer.string(page.epoch)
        writer.key("offset")
        writer.int(Int(clamping: page.offset))
        writer.endObject()
    }

    static func presence(_ id: UInt32, _ clients: [ClientInfo]) -> [UInt8] {
        reply(id) { writer in
            writer.key("presence")
            writePresence(clients, to: &writer)
        }
    }

    static func writePresence(_ clients: [ClientInfo], to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("presence")
        writer.beginObject()
        for client in clients {
            writer.key(client.client)
            client.write(to: &writer)
        }
        writer.endObject()
        writer.endObject()
    }

    static func presenceStats(_ id: UInt32, clients: Int, users: Int) -> [UInt8] {
        reply(id) { writer in
            writer.key("presence_stats")
            writer.beginObject()
            writer.key("num_clients")
            writer.int(clients)
            writer.key("num_users")
            writer.int(users)
            writer.endObject()
        }
    }

    static func rpc(_ id: UInt32, data: JSONValue?) -> [UInt8] {
        reply(id) { writer in
            writer.key("rpc")
            writer.beginObject()
            if let data {
                writer.key("data")
                writer.value(data)
            }
            writer.endObject()
        }
    }

    static func refresh(_ id: UInt32, client: String, version: String, expiresIn: Int?) -> [UInt8] {
        reply(id) { writer in
            writer.key("refresh")
            writer.beginObject()
            writer.key("client")
            writer.string(client)
            writer.key("version")
            writer.string(version)
            writeExpiry(expiresIn, to: &writer)
            writer.endObject()
        }
    }

    static func subRefresh(_ id: UInt32, expiresIn: Int?) -> [UInt8] {
        reply(id) { writer in
            writer.key("sub_refresh")
            writer.beginObject()
            writeExpiry(expiresIn, to: &writer)
            writer.endObject()
        }
    }

    /// `{"push":{"channel":…,"unsubscribe":{"code":…,"reason":…}}}`: codes below 2500 end the
    /// subscription, 2500 and up make the SDK subscribe again.
    static func unsubscribePush(channel: String, code: Int, reason: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 96)
        writer.beginObject()
        writer.key("push")
        writer.beginObject()
        writer.key("channel")
        writer.string(channel)
        writer.key("unsubscribe")
        writer.beginObject()
        writer.key("code")
        writer.int(code)
        writer.key("reason")
        writer.string(reason)
        writer.endObject()
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }

    private static func reply(_ id: UInt32, _ body: (inout JSONWriter) -> Void) -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.beginObject()
        writer.key("id")
        writer.int(Int(id))
        body(&writer)
        writer.endObject()
        return writer.bytes
    }

    /// `expires: true` and `ttl` (at least 1 s) for a token that runs out; nothing otherwise.
    private static func writeExpiry(_ expiresIn: Int?, to writer: inout JSONWriter) {
        guard let expiresIn else { return }
        writer.key("expires")
        writer.bool(true)
        writer.key("ttl")
        writer.int(max(1, expiresIn))
    }
}
