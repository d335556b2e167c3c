import CCurl
import Glibc

/// A started pthread, joined or detached exactly once by `CurlMultiLoop.shutdown`.
struct LoopThread: Sendable {
    let raw: pthread_t

    /// Starts a thread running `core.run()`. A plain pthread: the loop blocks in epoll_wait,
    /// which must never happen on a Swift concurrency executor thread.
    static func start(core: LoopCore, name: String) throws(CurlError) -> LoopThread {
        let context = Unmanaged.passRetained(LoopThreadContext(core: core, name: name)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, loopThreadEntry, context)
        guard rc == 0 else {
            Unmanaged<LoopThreadContext>.fromOpaque(context).release()
            throw .setupFailed("pthread_create", code: rc)
        }
        return LoopThread(raw: thread)
    }

    func join() {
        _ = pthread_join(raw, nil)
    }

    func detach() {
        _ = pthread_detach(raw)
    }

    static func currentID() -> UInt {
        UInt(pthread_self())
    }
}

private final class LoopThreadContext {
    let core: LoopCore
    let name: String

    init(core: LoopCore, name: String) {
        self.core = core
        self.name = name
    }
}

private func loopThreadEntry(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let argument else { return nil }
    // Balances the passRetained in `start`: the thread owns the context (and so the core) until it ends.
    let context = Unmanaged<LoopThreadContext>.fromOpaque(argument).takeRetainedValue()
    // Linux keeps the first 15 bytes of a thread name.
    tb_curl_name_current_thread(context.name)
    context.core.run()
    return nil
}
