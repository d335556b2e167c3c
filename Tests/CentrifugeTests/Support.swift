import BridgeCore
import Synchronization

@testable import Centrifuge

/// A transport that records what the session asked for, and lets a test read its frames.
final class RecordingTransport: ClientTransport {
    private let state = Mutex<(writes: Int, closes: [Disconnect], ticks: [Duration])>((0, [], []))

    func requestWrite() { state.withLock { $0.writes += 1 } }
    func close(_ disconnect: Disconnect) { state.withLock { $0.closes.append(disconnect) } }
    func scheduleTick(after delay: Duration) { state.withLock { $0.ticks.append(delay) } }

    var closes: [Disconnect] { state.withLock { $0.closes } }
    var ticks: [Duration] { state.withLock { $0.ticks } }
}

/// A session on a recording transport, with helpers to speak to it and read what it sends.
struct Harness {
    let hub: ChannelHub
    let transport = RecordingTransport()
    let session: ClientSession

    init(
        hub: ChannelHub = ChannelHub(), configuration: SessionConfiguration = SessionConfiguration(),
        authorizer: any ChannelAuthorizer = InsecureAuthorizer(), rpc: ClientSession.RPCHandler? = nil
    ) {
        self.hub = hub
        session = ClientSession(hub: hub, configuration: configuration, authorizer: authorizer, transport: transport, rpcHandler: rpc)
        session.open()
    }

    func send(_ text: String) {
        session.receive(Array(text.utf8), binary: false)
    }

    /// Every queued line, as parsed JSON objects.
    func read() -> [JSONValue] {
        var lines: [JSONValue] = []
        while let frame = session.nextFrame() {
            guard case .text(let bytes) = frame else { break }
            for line in bytes.split(separator: UInt8(ascii: "\n")) {
                if let value = try? JSONParser.parse(line) { lines.append(value) }
            }
        }
        return lines
    }

    /// Connects and returns the connect reply.
    @discardableResult
    func connect() -> JSONValue? {
        send(#"{"id":1,"connect":{"name":"test"}}"#)
        return read().first
    }
}
