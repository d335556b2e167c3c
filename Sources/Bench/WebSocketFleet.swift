import CEpoll
import Dispatch
import Foundation
import Glibc
import Synchronization

/// Many benchmark WebSocket connections on one thread (epoll): each connects, subscribes to its
/// channel (or, told to, to one stream's channel after another) and records every publication.
/// Counters are read from any thread; the per-token latencies once the thread has stopped.
final class WebSocketFleet: @unchecked Sendable {
    // @unchecked: `probes`, `latency`, `firstSentAt`, `lastAt`, `onEvent` are touched only by the
    // loop thread (`onEvent` is set before it starts; the rest is read after it stopped); the
    // inbox is locked; the rest is atomic or immutable.

    /// What a probe tells whoever drives the fleet (`onEvent`, on the fleet's thread).
    enum Report: Sendable {
        case connected
        case subscribed
        /// A subscribe failed (refused, or the connection is gone).
        case refused(String, connectionLost: Bool)
        /// The probe is done with its stream: the terminal event came, it went idle too long, it
        /// was abandoned, or its connection closed.
        case ended(ObservedRun)
    }

    private enum Command {
        case subscribe(Int, String)
        case abandon(Int, String)
    }

    let host: String
    let port: Int
    let path: String
    private var probes: [WebSocketProbe] = []
    /// Waits for the sockets that have something to read; an event's data is its probe's index.
    private let readiness: Int32
    /// Wakes the loop for the inbox: a pipe (the Glibc module has no eventfd), whose read end is
    /// registered with `wakeupMarker` as its data.
    private let wakeupRead: Int32
    private let wakeupWrite: Int32
    private static let wakeupMarker = UInt64.max
    private let inbox = Mutex<[Command]>([])
    private(set) var latency = HdrHistogram()
    /// The earliest model send time among the tokens received (uptime nanoseconds).
    private(set) var firstSentAt: UInt64 = 0
    private(set) var lastAt: UInt64 = 0
    let ready = Atomic<Int>(0)
    let connected = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    let received = Atomic<Int>(0)
    /// Text tokens delivered (a merged delta counts its seqs), over every probe.
    let tokens = Atomic<Int>(0)
    let closed = Atomic<Int>(0)
    private var started = false
    private let stopRequested = Atomic<Bool>(false)
    private let exited = DispatchSemaphore(value: 0)
    /// Set before `start`: gets each probe's reports, on the fleet's thread.
    var onEvent: (@Sendable (Int, Report) -> Void)?
    /// A probe whose stream has been silent this long ends it as failed (nil: never).
    let idleTimeout: Duration?

    /// Spin on the sockets instead of sleeping in epoll_wait (see `FanoutOptions.busyPoll`).
    let busyPoll: Bool

    init(host: String, port: Int, path: String, busyPoll: Bool = false, idleTimeout: Duration? = nil) throws(BenchError) {
        self.busyPoll = busyPoll
        self.host = host
        self.port = port
        self.path = path
        self.idleTimeout = idleTimeout
        readiness = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard readiness >= 0 else { throw BenchError("epoll_create1 failed: errno \(errno)") }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            close(readiness)
            throw BenchError("pipe failed: errno \(errno)")
        }
        (wakeupRead, wakeupWrite) = (ends[0], ends[1])
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        var interest = epoll_event()
        interest.events = EPOLLIN.rawValue
        interest.data.u64 = Self.wakeupMarker
        epoll_ctl(readiness, EPOLL_CTL_ADD, wakeupRead, &interest)
    }

    deinit {
        close(wakeupRead)
        close(wakeupWrite)
        close(readiness)
    }

    /// Opens one connection per entry (blocking connects, then non-blocking I/O): subscribed to
    /// that channel once connected, or left idle for `subscribe` when it is nil.
    func open(channels: [String?]) throws(BenchError) {
        for channel in channels {
            let fd = try connectSocket()
            let probe = WebSocketProbe(fd: fd, channel: channel)
            probe.queueHandshake(host: host, port: port, path: path)
            var interest = epoll_event()
            interest.events = EPOLLIN.rawValue
            interest.data.u64 = UInt64(probes.count)
            guard epoll_ctl(readiness, EPOLL_CTL_ADD, fd, &interest) == 0 else {
                close(fd)
                throw BenchError("epoll_ctl failed: errno \(errno)")
            }
            probes.append(probe)
        }
    }

    private func connectSocket() throws(BenchError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket failed: errno \(errno) (raise ulimit -n?)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw BenchError("connect to \(host):\(port) failed: errno \(errno)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }

    func start() {
        started = true
        let thread = Thread { [self] in run() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Stops the loop thread and closes every socket; later calls do nothing.
    func stop() {
        guard !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake()
        if started { exited.wait() }
        for probe in probes { close(probe.fd) }
    }

    /// Moves probe `index` to `channel` (from any thread); it reports `.subscribed` or `.refused`.
    func subscribe(_ index: Int, to channel: String) {
        post(.subscribe(index, channel))
    }

    /// Ends probe `index`'s current stream now, as failed for `reason` (it reports `.ended`).
    func abandon(_ index: Int, reason: String) {
        post(.abandon(index, reason))
    }

    private func post(_ command: Command) {
        inbox.withLock { $0.append(command) }
        wake()
    }

    /// A full pipe already means a wake-up is pending: a failed write loses nothing.
    private func wake() {
        var one: UInt8 = 1
        _ = write(wakeupWrite, &one, 1)
    }

    /// Totals over every probe, once stopped.
    var totals: (lost: Int, duplicated: Int, closedByServer: [UInt16]) {
        let values = probes
        return (values.reduce(0) { $0 + $1.lost }, values.reduce(0) { $0 + $1.duplicated }, values.compactMap(\.closeCode))
    }

    // MARK: - The loop

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var events = [epoll_event](repeating: epoll_event(), count: 1024)
        var nextIdleCheck = DispatchTime.now().uptimeNanoseconds
        for probe in probes { flush(probe) }
        while !stopRequested.load(ordering: .acquiring) {
            let count = epoll_wait(readiness, &events, Int32(events.count), busyPoll ? 0 : 20)
            for event in events.prefix(Int(max(0, count))) {
                if event.data.u64 == Self.wakeupMarker {
                    drainInbox()
                    continue
                }
                let index = Int(event.data.u64)
                let probe = probes[index]
                // Stamped as each socket is read, not once per pass: a publication counts as
                // delivered when this client has it.
                read(probe, index: index, into: &buffer, now: DispatchTime.now().uptimeNanoseconds)
                flush(probe)
                if probe.phase == .closed { epoll_ctl(readiness, EPOLL_CTL_DEL, probe.fd, nil) }
            }
            if let idleTimeout {
                let now = DispatchTime.now().uptimeNanoseconds
                if now >= nextIdleCheck {
                    nextIdleCheck = now + 100_000_000
                    expireIdle(now: now, after: UInt64(HdrHistogram.microseconds(idleTimeout)) * 1000)
                }
            }
        }
        exited.signal()
    }

    private func drainInbox() {
        var drained = [UInt8](repeating: 0, count: 256)
        while drained.withUnsafeMutableBytes({ Glibc.read(wakeupRead, $0.baseAddress, $0.count) }) == 256 {}
        let commands = inbox.withLock { inbox in
            defer { inbox.removeAll() }
            return inbox
        }
        let now = DispatchTime.now().uptimeNanoseconds
        for command in commands {
            switch command {
            case .subscribe(let index, let channel):
                guard probes.indices.contains(index) else { continue }
                probes[index].subscribe(to: channel, at: now)
                deliver(probes[index].takeEvents(), from: index)
                flush(probes[index])
            case .abandon(let index, let reason):
                guard probes.indices.contains(index) else { continue }
                end(index, failure: reason, at: now)
            }
        }
    }

    /// Ends a probe's stream with `failure` unless it already ended; the probe stays subscribed
    /// until it is moved on (a late push for that channel is then ignored).
    private func end(_ index: Int, failure: String, at now: UInt64) {
        let probe = probes[index]
        guard probe.observing else { return }
        let result = probe.observation.result(failure: failure, connectionLost: probe.phase == .closed)
        probe.detach(at: now)
        onEvent?(index, .ended(result))
    }

    private func expireIdle(now: UInt64, after limit: UInt64) {
        for (index, probe) in probes.enumerated() where probe.observing {
            if now - min(now, probe.observation.lastActivityAt) > limit {
                end(index, failure: "idle: nothing on the channel for \(limit / 1_000_000_000) s", at: now)
            }
        }
    }

    private func read(_ probe: WebSocketProbe, index: Int, into buffer: inout [UInt8], now: UInt64) {
        let before = (probe.phase, probe.received, probe.observation.tokens)
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(probe.fd, $0.baseAddress, $0.count) }
            if got > 0 {
                probe.input.append(contentsOf: buffer[..<got])
                if got < buffer.count { break }
            } else {
                if got == 0 { probe.phase = .closed }
                break
            }
        }
        probe.process(now: now) { sent in
            latency.record(Int64(clamping: (now - sent) / 1000))
            if firstSentAt == 0 || sent < firstSentAt { firstSentAt = sent }
        }
        if probe.received > before.1 {
            lastAt = now
            received.add(probe.received - before.1, ordering: .relaxed)
        }
        if probe.observation.tokens > before.2 { tokens.add(probe.observation.tokens - before.2, ordering: .relaxed) }
        deliver(probe.takeEvents(), from: index)
        if before.0 != .closed, probe.phase == .closed {
            closed.add(1, ordering: .relaxed)
            end(index, failure: "the connection was closed (\(probe.closeCode ?? 1006))", at: now)
        }
    }

    private func deliver(_ events: [WebSocketProbe.Event], from index: Int) {
        for event in events {
            switch event {
            case .connected:
                connected.add(1, ordering: .relaxed)
                onEvent?(index, .connected)
            case .subscribed:
                ready.add(1, ordering: .relaxed)
                onEvent?(index, .subscribed)
            case .refused(let reason):
                onEvent?(index, .refused(reason, connectionLost: probes[index].phase == .closed))
            case .finished:
                finished.add(1, ordering: .relaxed)
                let probe = probes[index]
                let result = probe.observation.result(failure: nil)
                onEvent?(index, .ended(result))
            }
        }
    }

    /// Writes what the probe queued; the few bytes a benchmark client sends fit the socket buffer,
    /// a rare short write is finished on the next pass.
    private func flush(_ probe: WebSocketProbe) {
        guard !probe.output.isEmpty, probe.phase != .closed else { return }
        let written = probe.output.withUnsafeBytes { write(probe.fd, $0.baseAddress, $0.count) }
        if written > 0 { probe.output.removeFirst(written) }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
