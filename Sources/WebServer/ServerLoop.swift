import CLibWebSockets
import Foundation
import Logging
import Synchronization

/// The libwebsockets context and everything that touches it, on one thread.
///
/// Other threads only append to `inbox` and call `lws_cancel_service`, the one libwebsockets call
/// that is safe from anywhere (while the context lives: `retireWakeTarget`); the server thread
/// drains the inbox in EVENT_WAIT_CANCELLED.
final class ServerLoop: @unchecked Sendable {
    // @unchecked: `context` is written once before the server thread starts serving and only read
    // afterwards; `exchanges`, `unparsedConnections`, `nextExchangeID` and `scratch` are touched only on the server thread;
    // everything shared across threads is in `inbox` (a Mutex) or an Atomic.

    enum Command {
        case respond(UInt64, HTTPResponse)
        case startStream(UInt64, HTTPResponseHead, StreamHeartbeat?)
        case write(UInt64, [UInt8])
        case finish(UInt64, [UInt8])
        case onClientGone(UInt64, @Sendable () -> Void)
        case webSocketWrite(UInt64)
        case webSocketClose(UInt64, code: UInt16, reason: String)
        case webSocketTick(UInt64, Duration)
        case closeAllWebSockets
    }

    static let scratchCapacity = 64 * 1024

    let configuration: WebServerConfiguration
    let handler: any HTTPHandler
    let webSocketHandler: (any WebSocketHandler)?
    let logger: Logger

    private let inbox = Mutex<[Command]>([])
    private let wakeRequested = Atomic<Bool>(false)
    /// The context other threads wake (lws_cancel_service), as its address (0: none, or
    /// destroyed), under a lock: see `retireWakeTarget`.
    private let wakeTarget = Mutex<UInt>(0)
    private let wakeDeferral = Mutex<WakeDeferral?>(nil)
    private let deferredWake = Atomic<Bool>(false)
    private let deferredPosts = Atomic<Int>(0)
    /// lws_cancel_service calls made (tests check the deferral).
    let wakeCount = Atomic<Int>(0)
    let stopRequested = Atomic<Bool>(false)
    let flushDeadline = Mutex<ContinuousClock.Instant?>(nil)
    private(set) var context: OpaquePointer?

    var exchanges: [UInt64: Exchange] = [:]
    var sockets: [UInt64: Socket] = [:]
    /// Accepted upgrades waiting for ESTABLISHED, by wsi (per-session memory may not carry over).
    var pendingUpgrades: [UInt: Socket] = [:]
    /// Connections lws' parser refused and handed back raw, by wsi, once they were answered.
    var unparsedConnections: Set<UInt> = []
    /// Ids for exchanges and sockets alike, so per-session memory names one or the other.
    var nextExchangeID: UInt64 = 1
    /// One reusable write buffer with the LWS_PRE headroom every lws_write needs.
    let scratch: UnsafeMutableRawPointer

    init(
        configuration: WebServerConfiguration, handler: any HTTPHandler, webSocketHandler: (any WebSocketHandler)?,
        logger: Logger
    ) {
        self.configuration = configuration
        self.handler = handler
        self.webSocketHandler = webSocketHandler
        self.logger = logger
        // Room past the slice for its chunk framing (size line, CRLFs, the last chunk).
        scratch = UnsafeMutableRawPointer.allocate(byteCount: Int(TB_LWS_PRE) + Self.scratchCapacity + 32, alignment: 16)
    }

    deinit {
        scratch.deallocate()
    }

    func attach(context: OpaquePointer) {
        self.context = context
        wakeTarget.withLock { $0 = UInt(bitPattern: context) }
    }

    /// Called on the server thread just before it destroys the context: from then on a late post
    /// from another thread (a stream that ended after the server stopped) wakes nothing instead
    /// of calling into a freed context.
    func retireWakeTarget() {
        wakeTarget.withLock { $0 = 0 }
    }

    /// Whether other threads' wakes still reach a context (tests check it ends with the server).
    var wakeTargetIsLive: Bool { wakeTarget.withLock { $0 != 0 } }

    private func cancelService() {
        wakeTarget.withLock { target in
            if let context = OpaquePointer(bitPattern: target) { lws_cancel_service(context) }
        }
    }

    /// Queues a command for the server thread and wakes it, once per batch; from a thread that
    /// defers its wakes, the wake waits for that thread's `flushDeferredWake`.
    func post(_ command: Command) {
        inbox.withLock { $0.append(command) }
        if let deferral = wakeDeferral.withLock({ $0 }), deferral.isDeferringThread() {
            // Bounded: a token fanned out to a thousand subscribers is a thousand posts, and the
            // server thread should start sending to the first while the rest are queued.
            if deferredPosts.add(1, ordering: .relaxed).newValue < Self.deferredPostsPerWake {
                deferredWake.store(true, ordering: .releasing)
                return
            }
            deferredPosts.store(0, ordering: .relaxed)
        }
        wakeOnce()
    }

    /// Posts from a deferring thread after which the server thread is woken anyway.
    static let deferredPostsPerWake = 64

    /// See `WebServer.deferWakes`.
    func deferWakes(from isDeferringThread: @escaping @Sendable () -> Bool) {
        wakeDeferral.withLock { $0 = WakeDeferral(isDeferringThread: isDeferringThread) }
    }

    func flushDeferredWake() {
        deferredPosts.store(0, ordering: .relaxed)
        if deferredWake.exchange(false, ordering: .acquiringAndReleasing) { wakeOnce() }
    }

    private func wakeOnce() {
        if !wakeRequested.exchange(true, ordering: .acquiringAndReleasing) {
            wakeCount.add(1, ordering: .relaxed)
            cancelService()
        }
    }

    func wake() {
        cancelService()
    }

    /// Applies queued commands; called on the server thread.
    func drainInbox() {
        wakeRequested.store(false, ordering: .releasing)
        let commands = inbox.withLock { inbox -> [Command] in
            let taken = inbox
            inbox.removeAll(keepingCapacity: true)
            return taken
        }
        for command in commands { apply(command) }
    }

    private func apply(_ command: Command) {
        switch command {
        case .respond(let id, let response):
            guard let exchange = exchanges[id], exchange.phase == .awaitingResponse else { return }
            exchange.head = response.head
            exchange.contentLength = response.body.count
            exchange.pending.replace(with: response.body)
            exchange.finishRequested = true
            exchange.phase = .headQueued
            lws_callback_on_writable(exchange.wsi)
        case .startStream(let id, let head, let heartbeat):
            guard let exchange = exchanges[id], exchange.phase == .awaitingResponse else { return }
            exchange.head = head
            exchange.contentLength = nil
            exchange.heartbeat = heartbeat
            exchange.phase = .headQueued
            lws_callback_on_writable(exchange.wsi)
            if let heartbeat { armTimer(exchange, after: heartbeat.interval) }
        case .write(let id, let bytes):
            // Writes may come before the head (a producer started before `startStream` was posted):
            // they wait in `pending`; a whole `respond` replaces them.
            guard let exchange = exchanges[id], exchange.isStreaming, !exchange.finishRequested, !exchange.abandoned else { return }
            exchange.pending.append(contentsOf: bytes)
            if exchange.pending.count > configuration.maxPendingBytes {
                abandon(exchange)
            } else if exchange.phase == .sendingBody {
                lws_callback_on_writable(exchange.wsi)
            }
        case .finish(let id, let bytes):
            guard let exchange = exchanges[id], exchange.isStreaming, !exchange.finishRequested else { return }
            exchange.pending.append(contentsOf: bytes)
            exchange.finishRequested = true
            if exchange.phase == .sendingBody { lws_callback_on_writable(exchange.wsi) }
        case .onClientGone(let id, let callback):
            if let exchange = exchanges[id] {
                exchange.clientGoneCallbacks.append(callback)
            } else {
                callback()
            }
        case .webSocketWrite(let id):
            if let socket = sockets[id] { lws_callback_on_writable(socket.wsi) }
        case .webSocketClose(let id, let code, let reason):
            if let socket = sockets[id] { close(socket, code: code, reason: reason) }
        case .webSocketTick(let id, let delay):
            if let socket = sockets[id] { armTimer(socket.wsi, after: delay) }
        case .closeAllWebSockets:
            closeAllWebSockets()
        }
    }

    /// Drops what a client too far behind has not read and closes its connection; whoever
    /// produces the response learns of it through `onClientGone`.
    private func abandon(_ exchange: Exchange) {
        logger.warning(
            "client too slow, closing",
            metadata: ["http.path": "\(exchange.path)", "queued.bytes": "\(exchange.pending.count)"])
        exchange.pending.removeAll()
        exchange.abandoned = true
        // Not through the writeable callback: a client that stopped reading has a full socket,
        // which never becomes writeable, so the close would wait as long as the client does.
        // Shut down first: lws would otherwise hold the close to flush what it still buffers for
        // this client; now that flush fails at once, and the client gets an end after what the
        // kernel already holds for it.
        let fd = lws_get_socket_fd(exchange.wsi)
        if fd >= 0 { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        lws_set_timeout(exchange.wsi, PENDING_TIMEOUT_HTTP_CONTENT, LWS_TO_KILL_ASYNC)
    }

    func armTimer(_ exchange: Exchange, after interval: Duration) {
        armTimer(exchange.wsi, after: interval)
    }

    func armTimer(_ wsi: OpaquePointer, after interval: Duration) {
        let micros = max(1000, interval.components.seconds * 1_000_000 + interval.components.attoseconds / 1_000_000_000_000)
        lws_set_timer_usecs(wsi, lws_usec_t(micros))
    }

    /// The exchange ended before its response did: tell whoever is producing it.
    func clientGone(_ exchange: Exchange) {
        exchanges[exchange.id] = nil
        let callbacks = exchange.clientGoneCallbacks
        exchange.clientGoneCallbacks = []
        for callback in callbacks { callback() }
    }

    var hasUnflushedResponses: Bool {
        exchanges.values.contains { $0.phase != .receiving && $0.phase != .awaitingResponse } || !sockets.isEmpty
    }
}

extension ServerLoop {
    /// True once a stop was requested and queued responses are out (or the flush time is up).
    var shouldExit: Bool {
        guard stopRequested.load(ordering: .acquiring) else { return false }
        if !hasUnflushedResponses { return true }
        return flushDeadline.withLock { $0.map { ContinuousClock.now >= $0 } ?? true }
    }
}

/// Which thread's posts wait for `flushDeferredWake`. A class around the closure: an optional
/// closure kept in a Mutex and read back through `withLock` was miscompiled in release builds
/// (the reabstraction thunks called each other until the stack ran out).
final class WakeDeferral: Sendable {
    let isDeferringThread: @Sendable () -> Bool

    init(isDeferringThread: @escaping @Sendable () -> Bool) {
        self.isDeferringThread = isDeferringThread
    }
}
