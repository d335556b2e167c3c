import BridgeCore
import Curl
import OpenAIWire
import Synchronization

/// One generation against the model server: the attempts, their timeouts, and the decoding of
/// the answer as it streams in. Curl calls it on the loop thread; `cancel` may come from anywhere.
final class UpstreamCall: CurlTransferDelegate, LLMCall, Sendable {
    struct State {
        var attempt = 0
        var transfer: CurlTransferID?
        var status = 0
        var retryAfter: Double?
        var errorBody: [UInt8] = []
        var decoder = ChatStreamDecoder()
        /// A token reached the receiver: from here on a failure ends the stream, never retries.
        var delivered = false
        var finished = false
        var sawEnd = false
    }

    private let client: OpenAIUpstreamClient
    private let receiver: any LLMReceiver
    private let body: [UInt8]
    private let retry: RetryPolicy
    private let deadline: ContinuousClock.Instant
    private let state = Mutex(State())
    private static let maximumErrorBody = 64 * 1024

    init(client: OpenAIUpstreamClient, request: UpstreamRequest, receiver: any LLMReceiver) {
        self.client = client
        self.receiver = receiver
        let configuration = client.configuration
        retry = RetryPolicy(retries: configuration.retries, base: configuration.retryBackoff, maximum: configuration.retryBackoffMax)
        deadline = ContinuousClock.now.advanced(by: configuration.totalTimeout)
        var upstream = request.body
        upstream["model"] = .string(request.model)
        upstream["stream"] = .bool(true)
        // Usage comes only when asked for; the bridge always wants it for the `done` event.
        if upstream["stream_options"] == nil {
            upstream["stream_options"] = ["include_usage": true]
        }
        body = JSONValue.object(upstream).jsonBytes
    }

    func begin() {
        startAttempt(notBefore: nil)
    }

    func cancel() {
        let transfer = state.withLock { state -> CurlTransferID? in
            guard !state.finished else { return nil }
            state.finished = true
            return state.transfer
        }
        if let transfer { client.loop.cancel(transfer) }
    }

    private func startAttempt(notBefore: ContinuousClock.Instant?) {
        let configuration = client.configuration
        let remaining = deadline - (notBefore ?? .now)
        let request = CurlRequest(
            url: configuration.chatCompletionsURL, method: "POST",
            headers: configuration.authorizationHeaders + [
                ("Content-Type", "application/json"), ("Accept", "text/event-stream"),
            ],
            body: body, connectTimeout: configuration.connectTimeout, totalTimeout: max(remaining, .milliseconds(1)))
        let attempt = state.withLock { state -> Int? in
            guard !state.finished else { return nil }
            state.attempt += 1
            state.transfer = nil
            state.status = 0
            state.retryAfter = nil
            state.errorBody = []
            state.decoder = ChatStreamDecoder()
            state.sawEnd = false
            return state.attempt
        }
        guard let attempt else { return }
        let id = client.loop.start(request, delegate: self, notBefore: notBefore)
        // Counted from the attempt's start, connecting included: the user waits for both.
        let firstToken = (notBefore ?? .now).advanced(by: configuration.firstTokenTimeout)
        // The transfer may already have ended (a refused connection fails at once, on the curl
        // thread) and even started the next attempt: only record the id if this attempt is current.
        let (current, cancelled) = state.withLock { state -> (Bool, Bool) in
            guard state.attempt == attempt else { return (false, false) }
            if state.transfer == nil { state.transfer = id }
            return (true, state.finished)
        }
        guard current else { return }
        if cancelled {
            client.loop.cancel(id)
            return
        }
        client.loop.setDeadline(id, min(firstToken, deadline), reason: client.firstTokenTimeoutReason)
    }

    // MARK: - CurlTransferDelegate

    func curlTransfer(_ id: CurlTransferID, didReceiveHead status: Int, headers: [(name: String, value: String)]) {
        let retryAfter = RetryPolicy.parseRetryAfter(headers.first { $0.name.lowercased() == "retry-after" }?.value)
        state.withLock { state in
            if state.transfer == nil { state.transfer = id }
            state.status = status
            state.retryAfter = retryAfter
        }
    }

    func curlTransfer(_ id: CurlTransferID, didReceive body: UnsafeRawBufferPointer) {
        var outputs: [LLMOutput] = []
        var failure: StreamFailure?
        var sawToken = false
        state.withLock { state in
            guard !state.finished else { return }
            guard (200..<300).contains(state.status) else {
                let room = Self.maximumErrorBody - state.errorBody.count
                if room > 0 { state.errorBody.append(contentsOf: body.prefix(room)) }
                return
            }
            do throws(StreamFailure) {
                try state.decoder.feed(body, into: &outputs)
            } catch {
                failure = error
            }
            if state.decoder.chunks.isDone { state.sawEnd = true }
            sawToken = outputs.contains(where: \.isToken)
            if sawToken { state.delivered = true }
            if failure != nil { state.finished = true }
        }
        if sawToken {
            let idle = client.configuration.idleTimeout
            client.loop.setDeadline(id, min(ContinuousClock.now.advanced(by: idle), deadline), reason: client.idleTimeoutReason)
        }
        if !outputs.isEmpty { receiver.llmDidProduce(contentsOf: outputs) }
        if let failure {
            client.loop.cancel(id)
            receiver.llmDidFinish(failure)
        }
    }

    func curlTransfer(_ id: CurlTransferID, didCompleteWith error: CurlError?) {
        let outcome = state.withLock { state -> Outcome in
            // Attempts run one after another, so a completion is for the current attempt; its id
            // may not be recorded yet when the transfer failed before `start` returned.
            guard !state.finished, state.transfer == nil || state.transfer == id else { return .ignore }
            let outcome = Self.outcome(of: &state, error: error, retry: retry, deadline: deadline)
            if case .retry = outcome {} else { state.finished = true }
            return outcome
        }
        switch outcome {
        case .ignore: return
        case .success(let tail):
            for output in tail { receiver.llmDidProduce(output) }
            receiver.llmDidFinish(nil)
        case .failure(let failure): receiver.llmDidFinish(failure)
        case .retry(let delay):
            client.logger.info("retrying upstream call", metadata: ["delay": "\(delay)"])
            startAttempt(notBefore: ContinuousClock.now.advanced(by: delay))
        }
    }

}
