import CEpoll
import Dispatch
import Foundation
import Glibc
import Synchronization

/// Many benchmark WebSocket connections on one thread (epoll): each connects, subscribes to its
/// channel and records every publication. Counters are read from any thread; the per-token
/// latencies once the thread has stopped.
final class WebSocketFleet: @unchecked Sendable {
    // @unchecked: `probes`, `latencies`, `firstSentAt`, `lastAt` are touched only by the loop thread
    // (and read after it stopped); the rest is atomic or immutable.

    let host: String
    let port: Int
    let path: String
    private var probes: [WebSocketProbe] = []
    /// Waits for the sockets that have something to read; an event's data is its probe's index.
    private let readiness: Int32
    private(set) var latencies: [UInt32] = []
    /// The earliest model send time among the tokens received (uptime nanoseconds).
    private(set) var firstSentAt: UInt64 = 0
    private(set) var lastAt: UInt64 = 0
    let ready = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    let received = Atomic<Int>(0)
    let closed = Atomic<Int>(0)
    private var started = false
    private let stopRequested = Atomic<Bool>(false)
    private let exited = DispatchSemaphore(value: 0)

    /// Spin on the sockets instead of sleeping in epoll_wait (see `FanoutOptions.busyPoll`).
    let busyPoll: Bool

    init(host: String, port: Int, path: String, busyPoll: Bool = false) throws(BenchError) {
        self.busyPoll = busyPoll
        self.host = host
        self.port = port
        self.path = path
        readiness = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard readiness >= 0 else { throw BenchError("epoll_create1 failed: errno \(errno)") }
    }

    deinit {
        close(readiness)
    }

    /// Opens one connection per channel name (blocking connects, then non-blocking I/O).
    func open(channels: [String]) throws(BenchError) {
        for channel in channels {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw BenchError("socket failed: errno \(errno) (raise ulimit -n?)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr(host)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(fd)
                throw BenchError("connect to \(host):\(port) failed: errno \(errno)")
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
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

    func start() {
        started = true
        let thread = Thread { [self] in run() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Stops the loop thread and closes every socket; later calls do nothing.
    func stop() {
        guard !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if started { exited.wait() }
        for probe in probes { close(probe.fd) }
    }

    /// Totals over every probe, once stopped.
    var totals: (lost: Int, duplicated: Int, closedByServer: [UInt16]) {
        let values = probes
        return (values.reduce(0) { $0 + $1.lost }, values.reduce(0) { $0 + $1.duplicated }, values.compactMap(\.closeCode))
    }

    private func run() {
        latencies.reserveCapacity(1 << 20)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var events = [epoll_event](repeating: epoll_event(), count: 1024)
        for probe in probes { flush(probe) }
        while !stopRequested.load(ordering: .acquiring) {
            let count = epoll_wait(readiness, &events, Int32(events.count), busyPoll ? 0 : 20)
            guard count > 0 else { continue }
            for event in events.prefix(Int(count)) {
                let probe = probes[Int(event.data.u64)]
                // Stamped as each socket is read, not once per pass: a publication counts as
                // delivered when this client has it.
                read(probe, into: &buffer, now: DispatchTime.now().uptimeNanoseconds)
                flush(probe)
                if probe.phase == .closed { epoll_ctl(readiness, EPOLL_CTL_DEL, probe.fd, nil) }
            }
        }
        exited.signal()
    }

    private func read(_ probe: WebSocketProbe, into buffer: inout [UInt8], now: UInt64) {
        let before = (probe.phase, probe.received, probe.finished)
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
            latencies.append(UInt32(clamping: (now - sent) / 1000))
            if firstSentAt == 0 || sent < firstSentAt { firstSentAt = sent }
        }
        if probe.received > before.1 {
            lastAt = now
            received.add(probe.received - before.1, ordering: .relaxed)
        }
        if before.0 != .ready, probe.phase == .ready { ready.add(1, ordering: .relaxed) }
        if !before.2, probe.finished { finished.add(1, ordering: .relaxed) }
        if before.0 != .closed, probe.phase == .closed { closed.add(1, ordering: .relaxed) }
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
