import BridgeCore
import Curl
import OpenAIWire

extension UpstreamCall {
    enum Outcome {
        case ignore
        case success([LLMOutput])
        case failure(StreamFailure)
        case retry(Duration)
    }

    /// Decides what an ended transfer means: done, failed, or worth another attempt.
    static func outcome(
        of state: inout State, error: CurlError?, retry: RetryPolicy, deadline: ContinuousClock.Instant
    ) -> Outcome {
        let failure: StreamFailure
        var retryable = false
        if let error {
            switch error.kind {
            case .cancelled, .shutdown:
                return .failure(StreamFailure(code: .shutdown, message: "The upstream call was stopped."))
            case .couldNotConnect:
                failure = StreamFailure(code: .upstreamUnavailable, message: "Cannot reach the model server: \(error.message)")
                retryable = true
            case .timedOut:
                failure = StreamFailure(code: .upstreamTimeout, message: "The model server timed out: \(error.message)")
                retryable = state.status == 0
            case .deadlineExceeded(let reason):
                failure = StreamFailure(code: .upstreamTimeout, message: "The model server sent \(reason).")
            case .transport:
                failure = StreamFailure(
                    code: state.status == 0 ? .upstreamUnavailable : .upstreamDisconnected,
                    message: "The connection to the model server failed: \(error.message)")
                retryable = state.status == 0
            }
        } else if !(200..<300).contains(state.status) {
            let detail = UpstreamErrorBody.message(from: state.errorBody)
            failure = StreamFailure(
                code: .upstreamError, message: "The model server answered \(state.status): \(detail)",
                upstreamStatus: state.status, retryAfter: state.retryAfter)
            retryable = RetryPolicy.isRetryable(status: state.status)
        } else {
            // A last event without its blank line, and text the think-tag splitter held back.
            var tail: [LLMOutput] = []
            state.decoder.finish(into: &tail)
            if state.decoder.chunks.isDone { state.sawEnd = true }
            if state.sawEnd || state.decoder.chunks.sawFinishReason { return .success(tail) }
            failure = StreamFailure(
                code: .upstreamDisconnected, message: "The model server closed the stream before the answer was complete.")
        }
        guard retryable, !state.delivered, state.attempt <= retry.retries else { return .failure(failure) }
        let delay = retry.delay(afterAttempt: state.attempt, retryAfter: state.retryAfter)
        guard ContinuousClock.now.advanced(by: delay) < deadline else { return .failure(failure) }
        return .retry(delay)
    }
}
