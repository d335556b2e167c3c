import CLibWebSockets
import Foundation
import Logging
import Synchronization

/// The embedded HTTP server: one libwebsockets context serviced by one thread, one port.
public final class WebServer: Sendable {
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    private let loop: ServerLoop
    private let stopped = Mutex<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter webSocketHandler: decides WebSocket upgrades; without one they are refused.
    public init(
        configuration: WebServerConfiguration, handler: any HTTPHandler, webSocketHandler: (any WebSocketHandler)? = nil,
        logger: Logger
    ) {
        loop = ServerLoop(configuration: configuration, handler: handler, webSocketHandler: webSocketHandler, logger: logger)
    }

    public var configuration: WebServerConfiguration { loop.configuration }

    /// Writes queued from a thread for which `isDeferringThread` is true do not wake the server
    /// thread one by one: that thread calls `flushDeferredWakes()` when it is done with a batch
    /// (the curl loop after every few sockets), and the server thread wakes once for them all.
    /// Each wake is a pass of `poll` over every connection, the server thread's largest cost
    /// under load.
    public func deferWakes(from isDeferringThread: @escaping @Sendable () -> Bool) {
        loop.deferWakes(from: isDeferringThread)
    }

    /// Whether wakes from other threads still reach the libwebsockets context.
    var wakeTargetIsLive: Bool { loop.wakeTargetIsLive }

    /// Times the server thread was woken for queued work.
    var wakeCount: Int { loop.wakeCount.load(ordering: .relaxed) }

    /// Wakes the server thread if writes from a deferring thread are waiting. Any thread.
    public func flushDeferredWakes() {
        loop.flushDeferredWake()
    }

    /// Creates the context and starts serving; throws when the port cannot be bound.
    public func start() throws {
        let signal = StartSignal()
        let loop = self.loop
        let finished = self.finished
        let thread = Thread {
            ServerThread.run(loop: loop, signal: signal, finished: finished)
        }
        thread.stackSize = 1 << 20
        thread.start()
        signal.ready.wait()
        if let message = signal.failure.withLock({ $0 }) {
            throw StartError(description: message)
        }
    }

    /// Stops serving: gives queued responses up to `flushTimeout` to go out, then closes every
    /// connection and destroys the context on its own thread. Idempotent.
    public func stop(flushTimeout: Duration = .seconds(2)) {
        let alreadyStopped = stopped.withLock { stopped -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !alreadyStopped, loop.context != nil else { return }
        loop.flushDeadline.withLock { $0 = ContinuousClock.now.advanced(by: flushTimeout) }
        loop.post(.closeAllWebSockets)
        loop.stopRequested.store(true, ordering: .releasing)
        // lws_service may sleep until the next event; keep poking it until the thread is out.
        while finished.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
            loop.wake()
        }
    }
}

/// The body of the server thread: create, serve, destroy, all on this one thread.
enum ServerThread {
    static func run(loop: ServerLoop, signal: StartSignal, finished: DispatchSemaphore) {
        tb_lws_name_current_thread("lws-server")
        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        let protocolName = strdup("http")
        let interface = loop.configuration.host.isEmpty || loop.configuration.host == "0.0.0.0" ? nil : strdup(loop.configuration.host)
        defer {
            protocols.deallocate()
            free(protocolName)
            free(interface)
            finished.signal()
        }
        protocols[0] = lws_protocols()
        protocols[0].name = UnsafePointer(protocolName)
        protocols[0].callback = webServerCallback
        protocols[0].per_session_data_size = MemoryLayout<UInt64>.size
        // lws gives every WebSocket a receive buffer this big for its whole life: inbound
        // messages are small commands (larger ones arrive in pieces and are gathered), so 1 KiB
        // instead of the 4 KiB default keeps idle connections cheap.
        protocols[0].rx_buffer_size = 1024
        // Without this lws would cut every send to the receive buffer's size and queue the rest
        // itself; a frame of batched publications goes out in one send.
        protocols[0].tx_packet_size = 1 << 17
        protocols[1] = lws_protocols()

        var info = lws_context_creation_info()
        info.port = Int32(loop.configuration.port)
        info.iface = UnsafePointer(interface)
        info.protocols = UnsafePointer(protocols)
        info.user = Unmanaged.passUnretained(loop).toOpaque()
        // lws stores the path and every header here and closes the connection without an answer
        // when a request overflows it. lws 4.1 cannot list headers it has no name for, so only
        // this buffer bounds them: 2 KiB of slack over the limit lets headers lws knows by name
        // that pass the limit get a proper 431 from us. Released as soon as a request is read.
        info.max_http_header_data2 = UInt32(loop.configuration.maxHeaderBytes + 2048)
        info.max_http_header_pool2 = 4096
        info.count_threads = 1
        info.timeout_secs = 30
        info.keepalive_timeout = 60
        if interface == nil || !(loop.configuration.host.contains(":")) {
            info.options |= UInt64(LWS_SERVER_OPTION_DISABLE_IPV6)
        }
        // A request line lws' parser has no name for comes back to the bridge as a raw socket
        // (protocol 0, this one) for an answer in the application's error shape; so does CONNECT,
        // which lws turns raw anyway. Debian's lws has LWS_WITH_HTTP_UNCOMMON_HEADERS, so PUT,
        // PATCH, DELETE and OPTIONS stay HTTP (without it they would be answered 501 here).
        info.options |= UInt64(LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG)
        tb_lws_set_log_level(LLL_ERR)

        guard let context = lws_create_context(&info) else {
            signal.failure.withLock {
                $0 = "could not listen on \(loop.configuration.host):\(loop.configuration.port) (in use or not permitted)"
            }
            signal.ready.signal()
            return
        }
        loop.attach(context: context)
        loop.logger.info("HTTP server listening", metadata: ["port": "\(loop.configuration.port)"])
        signal.ready.signal()
        while !loop.shouldExit {
            if lws_service(context, 0) < 0 { break }
        }
        loop.retireWakeTarget()
        lws_context_destroy(context)
    }
}

/// How the server thread tells `start()` whether it is listening.
final class StartSignal: Sendable {
    let ready = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
}
