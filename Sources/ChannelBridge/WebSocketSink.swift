import BridgeCore
import Centrifuge
import Synchronization

/// Publishes one stream's events into its channel `<prefix><uid>`: offset = seq, epoch = the run's
/// epoch, data = the stream event. Never blocks: the hub only appends and enqueues.
final class WebSocketSink: EventSink {
    let name = "websocket"
    /// The hub reads this stream's channel history from the journal, when it was given it.
    var readsHistoryFromJournal: Bool { hub.streamHistory != nil }
    private let hub: ChannelHub
    private let channel: String
    private let epoch = Mutex<String?>(nil)

    init(hub: ChannelHub, channel: String) {
        self.hub = hub
        self.channel = channel
    }

    func deliver(_ event: StreamEvent) {
        deliver(contentsOf: [event])
    }

    /// One channel lookup and lock for the lot.
    func deliver(contentsOf events: [StreamEvent]) {
        let epoch = self.epoch.withLock { current -> String in
            for event in events {
                if case .start(let runEpoch, _) = event.kind { current = runEpoch }
            }
            return current ?? ""
        }
        hub.publishJournaledStream(channel: channel, epoch: epoch, count: events.count) {
            events.map { event in
                var delta: StreamDelta?
                if case .delta(let text) = event.kind { delta = StreamDelta(uid: event.uid, from: event.seq, to: event.seq, text: text) }
                return StreamPublication(seq: UInt64(event.seq), data: event.jsonBytes(), delta: delta)
            }
        }
    }
}
