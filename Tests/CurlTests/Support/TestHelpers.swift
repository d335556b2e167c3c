import Curl
import Glibc
import Synchronization

/// Records everything a transfer's delegate is told, from the loop thread, for the test to inspect.
final class RecordingDelegate: CurlTransferDelegate {
    enum Event: Equatable, Sendable {
        case head, body, complete
    }

    struct Snapshot: Sendable {
        /// Callbacks in order; consecutive body calls are collapsed into one `.body`.
        var events: [Event] = []
        var status: Int?
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        var bodyBytes = 0
        var bodyCalls = 0
        var completions: [CurlError?] = []
        var completedAt: ContinuousClock.Instant?
        var threads: Set<UInt> = []

        var isComplete: Bool { !completions.isEmpty }
        var error: CurlError? { completions.first ?? nil }
        func header(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }
    }

    private let state = Mutex(Snapshot())
    private let keepBody: Bool
    /// Runs after each body call is recorded, with the number of body calls so far.
    private let onBody: (@Sendable (CurlTransferID, Int) -> Void)?

    init(keepBody: Bool = true, onBody: (@Sendable (CurlTransferID, Int) -> Void)? = nil) {
        self.keepBody = keepBody
        self.onBody = onBody
    }

    var snapshot: Snapshot { state.withLock { $0 } }
    var isComplete: Bool { state.withLock { $0.isComplete } }

    func curlTransfer(_ id: CurlTransferID, didReceiveHead status: Int, headers: [(name: String, value: String)]) {
        state.withLock {
            $0.events.append(.head)
            $0.status = status
            $0.headers = headers
            $0.threads.insert(UInt(pthread_self()))
        }
    }

    func curlTransfer(_ id: CurlTransferID, didReceive body: UnsafeRawBufferPointer) {
        let calls = state.withLock { state in
            if state.events.last != .body { state.events.append(.body) }
            if keepBody { state.body.append(contentsOf: body) }
            state.bodyBytes += body.count
            state.bodyCalls += 1
            state.threads.insert(UInt(pthread_self()))
            return state.bodyCalls
        }
        onBody?(id, calls)
    }

    func curlTransfer(_ id: CurlTransferID, didCompleteWith error: CurlError?) {
        state.withLock {
            $0.events.append(.complete)
            $0.completions.append(error)
            $0.completedAt = .now
            $0.threads.insert(UInt(pthread_self()))
        }
    }
}

/// Waits for `condition` by polling it, up to `timeout`. Returns whether it became true; tests
/// `#expect` on that, so a missing feature fails instead of hanging.
func eventually(timeout: Duration = .seconds(60), _ condition: () -> Bool) async -> Bool {
    let giveUp = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= giveUp { return false }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return true
}

/// Resident memory of this process from /proc/self/status, for information.
func residentSetSize() -> String {
    guard let file = fopen("/proc/self/status", "r") else { return "unknown" }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("VmRSS:") {
            return String(text.dropFirst("VmRSS:".count).drop { $0 == " " || $0 == "\t" }.dropLast())
        }
    }
    return "unknown"
}

/// A thousand streams need a thousand client and a thousand server sockets in this one process.
func raiseOpenFileLimit(to wanted: UInt) {
    var limit = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    guard limit.rlim_cur < wanted else { return }
    limit.rlim_cur = min(wanted, limit.rlim_max)
    _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
}

/// A loopback port nothing listens on: bound (so no one else gets it meanwhile) but never listening,
/// so connecting to it is refused. Close the returned descriptor when done.
func refusingPort() throws -> (port: UInt16, fd: Int32) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard fd >= 0, bound == 0 else { throw TestServerError.system("bind", errno) }
    return (try TestHTTPServer.boundPort(fd), fd)
}

/// The byte the test server repeats in chunk `index` of a stream.
func chunkByte(_ index: Int) -> UInt8 {
    UInt8(ascii: "a") + UInt8(index % 26)
}
