/// Names one transfer of a `CurlMultiLoop`. A plain number, never a handle: it is safe to keep,
/// compare and send anywhere, including after the transfer ended.
public struct CurlTransferID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var description: String { "curl#\(rawValue)" }
}

/// Receives one transfer's response as it arrives.
///
/// All three methods are called on the loop thread, in this order, and must return quickly: a slow
/// delegate stalls every other transfer of the loop. From inside them, `CurlMultiLoop.setDeadline`
/// and `cancel` are cheap and direct.
public protocol CurlTransferDelegate: AnyObject, Sendable {
    /// The final response head (1xx interim heads are skipped), once, before the first body byte.
    /// Not called when the transfer fails before a response head arrived.
    func curlTransfer(_ id: CurlTransferID, didReceiveHead status: Int, headers: [(name: String, value: String)])

    /// Body bytes as they arrive. The buffer is valid only during the call: copy what you keep.
    func curlTransfer(_ id: CurlTransferID, didReceive body: UnsafeRawBufferPointer)

    /// Exactly once per transfer, whatever happened: `nil` on success (any HTTP status), else why it
    /// ended (failure, deadline, cancel, shutdown). Nothing is called for this id afterwards.
    func curlTransfer(_ id: CurlTransferID, didCompleteWith error: CurlError?)
}
