import Dispatch
import Foundation
import Glibc
import Synchronization

/// Many benchmark WebSocket connections on one thread (poll): each connects, subscribes to its
/// channel and records every publication. Counters are read from any thread; the per-token
/// latencies once the thread has stopped.
final class WebSocketFleet: @unchecked Sendable {
    // @unchecked: `probes`, `latencies`, `firstSentAt`, `lastAt` are touched only by the loop thread
    // (and read after it stopped); the rest is atomic or immutable.

    let host: String
    let port: Int
    let path: String
    private var probes: [WebSocketProbe] = []
    private var descriptors: [pollfd] = []
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

    init(host: String, port: Int, path: String) throws(BenchError) {
        self.host = host
        self.port = port
        self.path = path
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
            probes.append(probe)
            descriptors.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
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
        for probe in probes { flush(probe) }
        while !stopRequested.load(ordering: .acquiring) {
            let count = poll(&descriptors, nfds_t(descriptors.count), 20)
            guard count > 0 else { continue }
            let now = DispatchTime.now().uptimeNanoseconds
            for index in descriptors.indices where descriptors[index].revents != 0 {
                descriptors[index].revents = 0
                let probe = probes[index]
                read(probe, into: &buffer, now: now)
                flush(probe)
                if probe.phase == .closed { descriptors[index].fd = -1 }
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
