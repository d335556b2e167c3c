/// What the embedded HTTP server needs to know; defaults are the documented ones.
public struct WebServerConfiguration: Sendable {
    /// Interface address to bind; "0.0.0.0" or "" for every interface.
    public var host: String
    public var port: Int
    /// Directory served at `/` for GET requests no route claims; nil serves nothing.
    public var webRoot: String?
    /// Request bodies over this are refused with 413.
    public var maxBodyBytes: Int
    /// Request header sections over this are refused with 431.
    public var maxHeaderBytes: Int
    /// Output queued for one response; a client that falls this far behind is disconnected
    /// (its `onClientGone` callbacks run), so a stalled reader cannot grow memory without bound.
    public var maxPendingBytes: Int
    /// Request headers lws does not know by token that handlers may read (lower case).
    public var customHeaders: [String]
    /// A WebSocket message (fragments together) over this closes the connection with 1009.
    public var maxWebSocketMessageBytes: Int

    public init(
        host: String = "0.0.0.0", port: Int = 8080, webRoot: String? = "web", maxBodyBytes: Int = 1 << 20,
        maxHeaderBytes: Int = 16 * 1024, maxPendingBytes: Int = 8 << 20,
        customHeaders: [String] = [
            "last-event-id", "prefer", "x-api-key", "x-request-id", "x-stream-id", "x-centrifugo-error-mode",
        ],
        maxWebSocketMessageBytes: Int = 65536
    ) {
        self.host = host
        self.port = port
        self.webRoot = webRoot
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxPendingBytes = maxPendingBytes
        self.customHeaders = customHeaders
        self.maxWebSocketMessageBytes = maxWebSocketMessageBytes
    }
}
