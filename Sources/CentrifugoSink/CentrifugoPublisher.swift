import BridgeCore
import Curl
import Logging
import Synchronization

/// Publishes streams into an external Centrifugo through its HTTP API. Each stream has its own
/// sink and sender (one request at a time, so its publications stay in order); they share the
/// curl loop, whose connection cache keeps connections to Centrifugo alive and reused.
public final class CentrifugoPublisher: Sendable {
    public let configuration: CentrifugoSinkConfiguration
    let loop: CurlMultiLoop
    let logger: Logger
    let encoder: CentrifugoRequestEncoder
    /// Told once about each stream run whose publications could not all be delivered.
    let onFailure: @Sendable (_ uid: String, _ epoch: String, _ reason: String) -> Void

    let publishedCount = Atomic<Int>(0)
    let requestCount = Atomic<Int>(0)
    let retryCount = Atomic<Int>(0)
    let failedStreamCount = Atomic<Int>(0)
    let droppedCount = Atomic<Int>(0)
    /// Publications waiting or in flight, all streams together.
    let pendingCount = Atomic<Int>(0)
    /// Streams with a sender running.
    let sendingCount = Atomic<Int>(0)

    public init(
        configuration: CentrifugoSinkConfiguration, loop: CurlMultiLoop, logger: Logger,
        onFailure: @escaping @Sendable (_ uid: String, _ epoch: String, _ reason: String) -> Void = { _, _, _ in }
    ) {
        self.configuration = configuration
        self.loop = loop
        self.logger = logger
        self.onFailure = onFailure
        encoder = CentrifugoRequestEncoder(configuration: configuration)
    }

    public func sink(for uid: String) -> any EventSink {
        CentrifugoStreamSink(uid: uid, channel: configuration.channel(for: uid), publisher: self)
    }

    /// A sink publishing the Centrifugo AI example's messages (`TextChannelMessage`) into `channel`.
    public func textSink(uid: String, channel: String) -> any EventSink {
        CentrifugoStreamSink(uid: uid, channel: channel, publisher: self, dataFor: TextChannelMessage.data(for:))
    }

    /// Waits until every publication went out or failed, or `timeout` passed (on shutdown).
    public func drain(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while sendingCount.load(ordering: .acquiring) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Sends one batch, retrying with backoff while the budget lasts: nil once Centrifugo took
    /// it, else why it would not. The same idempotency keys go with every try.
    func deliver(_ batch: [CentrifugoPublication], channel: String, uid: String) async -> String? {
        let request = encoder.request(batch, channel: channel)
        var retries = 0
        while true {
            requestCount.add(1, ordering: .relaxed)
            let reply: CentrifugoReply
            do {
                reply = CentrifugoReply.read(try await loop.perform(request), style: configuration.style, count: batch.count)
            } catch {
                reply = .refused(reason: error.description, retryable: true)
            }
            guard case .refused(let reason, let retryable) = reply else {
                publishedCount.add(batch.count, ordering: .relaxed)
                return nil
            }
            guard retryable, retries < configuration.retries else { return reason }
            retries += 1
            retryCount.add(1, ordering: .relaxed)
            logger.debug(
                "centrifugo publish failed, retrying",
                metadata: ["stream.id": "\(uid)", "error": "\(reason)", "retry": "\(retries)"])
            try? await Task.sleep(for: configuration.backoff(before: retries))
        }
    }

    func streamFailed(uid: String, epoch: String, reason: String, dropped: Int) {
        failedStreamCount.add(1, ordering: .relaxed)
        droppedCount.add(dropped, ordering: .relaxed)
        logger.error(
            "centrifugo sink gave up on a stream",
            metadata: ["stream.id": "\(uid)", "error": "\(reason)", "dropped": "\(dropped)"])
        onFailure(uid, epoch, reason)
    }
}

extension CentrifugoPublisher: MetricsSource {
    public func writeMetrics(to metrics: inout MetricsText) {
        metrics.counter(
            "tokenbridge_centrifugo_publications_total", "Publications Centrifugo accepted.",
            Double(publishedCount.load(ordering: .relaxed)))
        metrics.counter(
            "tokenbridge_centrifugo_requests_total", "HTTP requests to Centrifugo's API, retries included.",
            Double(requestCount.load(ordering: .relaxed)))
        metrics.counter("tokenbridge_centrifugo_retries_total", "Requests tried again.", Double(retryCount.load(ordering: .relaxed)))
        metrics.counter(
            "tokenbridge_centrifugo_failed_streams_total", "Streams whose publications the sink gave up on.",
            Double(failedStreamCount.load(ordering: .relaxed)))
        metrics.counter(
            "tokenbridge_centrifugo_dropped_total", "Publications not delivered because their stream's sink had failed.",
            Double(droppedCount.load(ordering: .relaxed)))
        metrics.gauge("tokenbridge_centrifugo_pending", "Publications waiting or in flight.", Double(pendingCount.load(ordering: .relaxed)))
    }
}
