import Dispatch
import Foundation

/// Waits for SIGINT or SIGTERM. The handlers only resume a continuation; all stopping work happens
/// in ordinary code afterwards.
enum ShutdownSignal {
    static func wait() async -> Int32 {
        let watcher = SignalWatcher()
        return await withCheckedContinuation { continuation in
            watcher.start { continuation.resume(returning: $0) }
        }
    }

    /// Process-wide settings every server subcommand needs before it opens sockets.
    static func prepareProcess() {
        // A peer closing mid-write must be an error return, not a process-killing signal.
        signal(SIGPIPE, SIG_IGN)
        // Each stream holds sockets; lift the soft descriptor limit to the hard one.
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
    }
}

/// Owns the signal sources until the first signal arrives.
final class SignalWatcher: @unchecked Sendable {
    // @unchecked: `sources` is written once in `start` and afterwards touched only on `queue`.
    private let queue = DispatchQueue(label: "tokenbridge.signals")
    private var sources: [any DispatchSourceSignal] = []
    private let fired = OnceFlag()

    func start(_ onSignal: @escaping @Sendable (Int32) -> Void) {
        queue.sync {
            for number in [SIGINT, SIGTERM] {
                // The default action would kill the process before the sources see the signal.
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { [self] in
                    guard fired.claim() else {
                        // A second signal while draining: the operator wants out now.
                        FileHandle.standardError.write(Data("tokenbridge: second signal, exiting without draining\n".utf8))
                        exit(1)
                    }
                    for source in sources { source.cancel() }
                    onSignal(number)
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}

/// True for the first caller only.
final class OnceFlag: @unchecked Sendable {
    // @unchecked: the flag is only read and written under `lock`.
    private let lock = NSLock()
    private var done = false

    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}
