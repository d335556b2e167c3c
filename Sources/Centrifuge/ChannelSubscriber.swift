import BridgeCore

/// A subscription to a channel: a client session, seen by the hub.
public protocol ChannelSubscriber: AnyObject, Sendable {
    /// Called with the channel's lock held, in offset order, from whichever thread published:
    /// must only enqueue and return.
    func channel(_ name: String, didPublish publication: Publication)
    /// Who this is in `channel`, for presence (with the subscription's `chan_info`).
    func clientInfo(in channel: String) -> ClientInfo
}

/// A connection as other clients and the server API see it.
public struct ClientInfo: Sendable, Equatable {
    public var client: String
    public var user: String
    /// Raw JSON from the connection token's `info`.
    public var connInfo: [UInt8]?
    /// Raw JSON from the subscription token's `info`.
    public var chanInfo: [UInt8]?

    public init(client: String, user: String, connInfo: [UInt8]? = nil, chanInfo: [UInt8]? = nil) {
        self.client = client
        self.user = user
        self.connInfo = connInfo
        self.chanInfo = chanInfo
    }

    /// `user` and `client` always, the infos when present.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("user")
        writer.string(user)
        writer.key("client")
        writer.string(client)
        if let connInfo {
            writer.key("conn_info")
            writer.raw(connInfo)
        }
        if let chanInfo {
            writer.key("chan_info")
            writer.raw(chanInfo)
        }
        writer.endObject()
    }
}
