/// An error in a reply to a client command, with Centrifugo's codes: the SDKs decide from the code
/// whether to retry (109 refresh the token, `temporary` back off) or give up.
public struct ReplyError: Error, Sendable, Equatable {
    public let code: Int
    public let message: String
    public let temporary: Bool

    public init(code: Int, message: String, temporary: Bool = false) {
        self.code = code
        self.message = message
        self.temporary = temporary
    }

    public static let `internal` = ReplyError(code: 100, message: "internal server error", temporary: true)
    public static let unauthorized = ReplyError(code: 101, message: "unauthorized")
    public static let unknownChannel = ReplyError(code: 102, message: "unknown channel")
    public static let permissionDenied = ReplyError(code: 103, message: "permission denied")
    public static let methodNotFound = ReplyError(code: 104, message: "method not found")
    public static let alreadySubscribed = ReplyError(code: 105, message: "already subscribed")
    public static let limitExceeded = ReplyError(code: 106, message: "limit exceeded")
    public static let badRequest = ReplyError(code: 107, message: "bad request")
    public static let notAvailable = ReplyError(code: 108, message: "not available")
    public static let tokenExpired = ReplyError(code: 109, message: "token expired")
    public static let expired = ReplyError(code: 110, message: "expired")
    public static let tooManyRequests = ReplyError(code: 111, message: "too many requests", temporary: true)
    public static let unrecoverablePosition = ReplyError(code: 112, message: "unrecoverable position")
}

/// Why the server closes a connection: the WebSocket close code and reason Centrifugo uses.
/// 3000-3499 make the SDKs reconnect, 3500-3999 are terminal.
public struct Disconnect: Error, Sendable, Equatable {
    public let code: UInt16
    public let reason: String

    public init(code: UInt16, reason: String) {
        self.code = code
        self.reason = reason
    }

    public static let shutdown = Disconnect(code: 3001, reason: "shutdown")
    public static let internalError = Disconnect(code: 3004, reason: "internal server error")
    public static let expired = Disconnect(code: 3005, reason: "connection expired")
    public static let subscriptionExpired = Disconnect(code: 3006, reason: "subscription expired")
    public static let slow = Disconnect(code: 3008, reason: "slow")
    public static let writeError = Disconnect(code: 3009, reason: "write error")
    public static let insufficientState = Disconnect(code: 3010, reason: "insufficient state")
    public static let forceReconnect = Disconnect(code: 3011, reason: "force reconnect")
    public static let noPong = Disconnect(code: 3012, reason: "no pong")
    public static let invalidToken = Disconnect(code: 3500, reason: "invalid token")
    public static let badRequest = Disconnect(code: 3501, reason: "bad request")
    public static let stale = Disconnect(code: 3502, reason: "stale")
    public static let forceDisconnect = Disconnect(code: 3503, reason: "force disconnect")
    public static let connectionLimit = Disconnect(code: 3504, reason: "connection limit")
    public static let channelLimit = Disconnect(code: 3505, reason: "channel limit")
    public static let inappropriateProtocol = Disconnect(code: 3506, reason: "inappropriate protocol")
    public static let permissionDenied = Disconnect(code: 3507, reason: "permission denied")
    public static let notAvailable = Disconnect(code: 3508, reason: "not available")
    public static let tooManyErrors = Disconnect(code: 3509, reason: "too many errors")
}
