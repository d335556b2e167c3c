import Glibc

/// The server thread: accept, read, write and pace streams with one poll() over every socket.
final class TestServerLoop {
    private let listenFD: Int32
    private let shared: TestServerShared
    private var connections: [Int32: TestConnection] = [:]
    private var nextSerial = 1

    init(listenFD: Int32, shared: TestServerShared) {
        self.listenFD = listenFD
        self.shared = shared
    }

    func run() {
        while !shared.state.withLock({ $0.stopRequested }) {
            var fds = [
                pollfd(fd: shared.wakeReadFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0),
            ]
            let open = Array(connections.values)
            for connection in open {
                let events = POLLIN | (connection.wantsToWrite ? POLLOUT : 0)
                fds.append(pollfd(fd: connection.fd, events: Int16(events), revents: 0))
            }
            _ = poll(&fds, nfds_t(fds.count), pollTimeout(open))
            if fds[0].revents != 0 { drainWakePipe() }
            if fds[1].revents != 0 { acceptAll() }
            for (index, connection) in open.enumerated() {
                let revents = Int32(fds[index + 2].revents)
                if revents & (POLLIN | POLLHUP | POLLERR) != 0 { connection.readAvailable() }
                if revents & POLLOUT != 0 { connection.flush() }
            }
            let released = shared.state.withLock { $0.releasedGates }
            let now = ContinuousClock.now
            for connection in open where !connection.isClosed {
                connection.tick(now: now, releasedGates: released)
            }
            for connection in open where connection.isClosed {
                connections[connection.fd] = nil
            }
        }
        for connection in connections.values {
            connection.close()
        }
    }

    private func pollTimeout(_ open: [TestConnection]) -> Int32 {
        let now = ContinuousClock.now
        var timeout = 1000
        for connection in open {
            guard let next = connection.nextEventAt else { continue }
            if next <= now { return 0 }
            let (seconds, attoseconds) = (next - now).components
            timeout = min(timeout, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000) + 1)
        }
        return Int32(timeout)
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(shared.wakeReadFD, &buffer, buffer.count) > 0 {}
    }

    private func acceptAll() {
        while true {
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            var yes: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            connections[fd] = TestConnection(fd: fd, serial: nextSerial, shared: shared)
            nextSerial += 1
            shared.state.withLock { $0.connectionsAccepted += 1 }
        }
    }
}
