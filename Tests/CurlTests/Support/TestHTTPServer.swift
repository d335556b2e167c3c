import Glibc
import Synchronization

/// A small HTTP/1.1 server for the Curl tests: POSIX sockets and poll() on one thread, keep-alive,
/// a thousand concurrent connections. What it does is chosen by the request path and query
/// (see `TestServerConnection.plan`); every request carries `id=<unique>` so a test can read what
/// the server saw of it, including whether the client closed the connection before the end.
final class TestHTTPServer: Sendable {
    let port: UInt16
    private let shared: TestServerShared
    private let thread: Mutex<pthread_t?>

    init() throws {
        let listenFD = try Self.listenOnLoopback()
        port = try Self.boundPort(listenFD)
        let shared = try TestServerShared()
        self.shared = shared
        thread = Mutex(
            try startTestThread {
                TestServerLoop(listenFD: listenFD, shared: shared).run()
                close(listenFD)
            })
    }

    deinit {
        stop()
    }

    func url(_ pathAndQuery: String) -> String {
        "http://127.0.0.1:\(port)\(pathAndQuery)"
    }

    /// What the server saw of the request with this `id`, if it arrived.
    func request(_ id: String) -> ServedRequest? {
        shared.state.withLock { $0.requests[id] }
    }

    /// TCP connections accepted so far.
    var connectionsAccepted: Int {
        shared.state.withLock { $0.connectionsAccepted }
    }

    /// Lets a gated stream (`gate=1`) send the rest of its chunks.
    func releaseGate(_ id: String) {
        shared.state.withLock { _ = $0.releasedGates.insert(id) }
        shared.wake()
    }

    func stop() {
        shared.state.withLock { $0.stopRequested = true }
        shared.wake()
        if let thread = thread.withLock({ $0.take() }) {
            pthread_join(thread, nil)
        }
    }

    private static func listenOnLoopback() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw TestServerError.system("socket", errno) }
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 4096) == 0 else {
            let error = errno
            close(fd)
            throw TestServerError.system("bind/listen", error)
        }
        return fd
    }

    static func boundPort(_ fd: Int32) throws -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { throw TestServerError.system("getsockname", errno) }
        return UInt16(bigEndian: address.sin_port)
    }
}

/// What the server saw of one request.
struct ServedRequest: Sendable {
    var method: String
    var target: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var receivedAt: ContinuousClock.Instant
    /// Serial number of the TCP connection it arrived on (1, 2, ...).
    var connection: Int
    /// Body chunks and bytes handed to the socket so far.
    var chunksSent = 0
    var bytesSent = 0
    var responseComplete = false
    /// The client closed the connection before the response was complete.
    var clientClosedEarly = false

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

enum TestServerError: Error {
    case system(String, Int32)
}

/// State shared between the server thread and the tests.
final class TestServerShared: Sendable {
    struct State {
        var requests: [String: ServedRequest] = [:]
        var releasedGates: Set<String> = []
        var connectionsAccepted = 0
        var stopRequested = false
    }

    let state = Mutex(State())
    let wakeReadFD: Int32
    let wakeWriteFD: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw TestServerError.system("pipe", errno) }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        wakeReadFD = fds[0]
        wakeWriteFD = fds[1]
    }

    deinit {
        close(wakeReadFD)
        close(wakeWriteFD)
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWriteFD, &byte, 1)
    }

    func update(_ id: String, _ change: (inout ServedRequest) -> Void) {
        state.withLock { state in
            if var request = state.requests[id] {
                change(&request)
                state.requests[id] = request
            }
        }
    }
}

/// Runs `body` on a new pthread (the server must not block a Swift concurrency thread).
func startTestThread(_ body: @escaping @Sendable () -> Void) throws -> pthread_t {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(
        &thread, nil,
        { argument in
            guard let argument else { return nil }
            Unmanaged<Box>.fromOpaque(argument).takeRetainedValue().body()
            return nil
        }, context)
    guard rc == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        throw TestServerError.system("pthread_create", rc)
    }
    return thread
}
