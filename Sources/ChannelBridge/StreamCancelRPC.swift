import BridgeCore
import Centrifuge
import Glibc

/// The channel server's `rpc` methods: `cancel` `{"uid": …}` stops a running stream, for a
/// connection that may subscribe to that stream's channel (it is subscribed, or the access rules
/// would let it subscribe without a token).
struct StreamCancelRPC: Sendable {
    /// The handler for `ChannelServer`'s `rpcHandler`.
    static func handler(pipeline: Pipeline, authorizer: any ChannelAuthorizer, streamPrefix: String) -> ClientSession.RPCHandler {
        StreamCancelRPC(pipeline: pipeline, authorizer: authorizer, streamPrefix: streamPrefix).handler
    }

    let pipeline: Pipeline
    let authorizer: any ChannelAuthorizer
    let streamPrefix: String

    var handler: ClientSession.RPCHandler {
        { method, data, session in handle(method: method, data: data, session: session) }
    }

    func handle(method: String, data: JSONValue, session: ClientSession) -> Result<JSONValue?, ReplyError> {
        guard method == "cancel" else { return .failure(.methodNotFound) }
        guard let uid = data.objectValue?["uid"]?.stringValue, StreamID.isValid(uid) else {
            return .failure(ReplyError(code: 107, message: "bad request: cancel needs data {\"uid\": <stream id>}"))
        }
        let channel = streamPrefix + uid
        guard session.subscribedChannels.contains(channel) || maySubscribe(session, to: channel) else {
            return .failure(.permissionDenied)
        }
        guard pipeline.cancel(uid: uid) else {
            return .failure(ReplyError(code: 404, message: "stream '\(uid)' is not running"))
        }
        var result = JSONObject()
        result["uid"] = .string(uid)
        result["status"] = .string(pipeline.journal.result(of: uid)?.status.rawValue ?? "cancelled")
        return .success(.object(result))
    }

    private func maySubscribe(_ session: ClientSession, to channel: String) -> Bool {
        let decision = authorizer.authorizeSubscribe(
            channel: channel, token: "", identity: session.identity, client: session.clientID, now: Int64(time(nil)))
        if case .allow = decision { return true }
        return false
    }
}
