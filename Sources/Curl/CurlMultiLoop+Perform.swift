import Synchronization

// MARK: - Whole responses, for simple calls (health probes, model lists)

extension CurlMultiLoop {
    /// The default cap on a `perform` body: far above any model list, far below trouble.
    public static let defaultMaxBodyBytes = 8 << 20

    /// Runs a request to completion and returns the whole response. Any HTTP status is a response;
    /// only transport trouble throws. Cancelling the calling Task cancels the transfer.
    ///
    /// - Parameter maxBodyBytes: a longer body aborts the transfer with a `.transport` error.
    public func perform(
        _ request: CurlRequest, maxBodyBytes: Int = CurlMultiLoop.defaultMaxBodyBytes
    ) async throws(CurlError) -> CurlResponse {
        let collector = ResponseCollector(loop: self, maxBodyBytes: maxBodyBytes)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                collector.begin(request, continuation: continuation)
            }
        } onCancel: {
            collector.cancel()
        }
        return try result.get()
    }
}

/// The delegate behind `perform`: gathers the response and resumes the caller on completion.
private final class ResponseCollector: CurlTransferDelegate {
    private struct State {
        var continuation: CheckedContinuation<Result<CurlResponse, CurlError>, Never>?
        var id: CurlTransferID?
        var cancelRequested = false
        var status = 0
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        var tooLarge = false
    }

    // Holding the loop makes a cycle (loop -> transfer -> collector -> loop) that lasts only until
    // the transfer completes; it keeps the loop alive while a perform is outstanding.
    private let loop: CurlMultiLoop
    private let maxBodyBytes: Int
    private let state = Mutex(State())

    init(loop: CurlMultiLoop, maxBodyBytes: Int) {
        self.loop = loop
        self.maxBodyBytes = maxBodyBytes
    }

    func begin(_ request: CurlRequest, continuation: CheckedContinuation<Result<CurlResponse, CurlError>, Never>) {
        state.withLock { $0.continuation = continuation }
        let id = loop.start(request, delegate: self)
        // The Task may have been cancelled before the id existed: honour that now.
        let cancelNow = state.withLock { state in
            state.id = id
            return state.cancelRequested
        }
        if cancelNow { loop.cancel(id) }
    }

    func cancel() {
        let id = state.withLock { state in
            state.cancelRequested = true
            return state.id
        }
        if let id { loop.cancel(id) }
    }

    func curlTransfer(_ id: CurlTransferID, didReceiveHead status: Int, headers: [(name: String, value: String)]) {
        state.withLock { state in
            state.status = status
            state.headers = headers
        }
    }

    func curlTransfer(_ id: CurlTransferID, didReceive body: UnsafeRawBufferPointer) {
        let overflow = state.withLock { state in
            guard !state.tooLarge else { return false }
            guard state.body.count + body.count <= maxBodyBytes else {
                state.tooLarge = true
                return true
            }
            state.body.append(contentsOf: body)
            return false
        }
        if overflow { loop.cancel(id) }
    }

    func curlTransfer(_ id: CurlTransferID, didCompleteWith error: CurlError?) {
        let (continuation, result) = state.withLock { state in
            let result: Result<CurlResponse, CurlError>
            if state.tooLarge {
                result = .failure(
                    CurlError(kind: .transport, message: "response body larger than \(maxBodyBytes) bytes"))
            } else if let error {
                result = .failure(error)
            } else {
                result = .success(CurlResponse(status: state.status, headers: state.headers, body: state.body))
            }
            defer { state.continuation = nil }
            return (state.continuation, result)
        }
        continuation?.resume(returning: result)
    }
}
