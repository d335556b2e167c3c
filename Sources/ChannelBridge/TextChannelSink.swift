import BridgeCore
import Centrifuge
import Synchronization

/// Publishes a stream into a channel the caller named, as the Centrifugo AI example's messages
/// (`TextChannelMessage`): offsets count those messages from 1 under the run's epoch, so a client
/// that subscribes late with recovery still gets the whole answer.
final class TextChannelSink: EventSink {
    let name = "websocket-text"
    private let hub: ChannelHub
    private let channel: String
    private let position = Mutex<(epoch: String, offset: UInt64)>(("", 0))

    init(hub: ChannelHub, channel: String) {
        self.hub = hub
        self.channel = channel
    }

    func deliver(_ event: StreamEvent) {
        if case .start(let epoch, _) = event.kind { position.withLock { $0 = (epoch, 0) } }
        guard let data = TextChannelMessage.data(for: event) else { return }
        let (epoch, offset) = position.withLock { position -> (String, UInt64) in
            position.offset += 1
            return (position.epoch, position.offset)
        }
        hub.publishStream(channel: channel, epoch: epoch, seq: offset, data: data)
    }
}

extension ChannelServer {
    /// A sink publishing the Centrifugo AI example's messages into `channel`.
    public func textSink(channel: String) -> any EventSink {
        TextChannelSink(hub: hub, channel: channel)
    }
}
