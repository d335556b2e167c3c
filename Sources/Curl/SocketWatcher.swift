import CCurl
import CEpoll
import Glibc

/// The loop thread's view of libcurl's sockets: an epoll set that libcurl keeps up to date through
/// its socket callback, libcurl's single timer, and an eventfd other threads write to wake the loop.
///
/// Why not curl_multi_poll: it rebuilds a pollfd array over every transfer's socket and the kernel
/// scans all of them on every pass, and curl_multi_perform then visits every transfer. With a
/// hundred busy streams that was a quarter of the loop thread's time. With epoll and
/// curl_multi_socket_action only the sockets that have data cost anything.
final class SocketWatcher: @unchecked Sendable {
    // @unchecked: `registered`, `timerDue` and the event buffer are used only on the loop thread
    // (the callbacks run inside curl_multi_socket_action there). `wakeup()` touches only the
    // eventfd, which any thread may write. Both descriptors live until deinit, after the loop
    // thread and every wakeup caller are gone.

    /// One readiness report from `wait`.
    struct Readiness {
        var socket: Int32
        /// CURL_CSELECT_* bits for curl_multi_socket_action.
        var curlFlags: Int32
    }

    private let readiness: Int32
    private let wakeupDescriptor: Int32
    private var registered: Set<Int32> = []
    private var events = [epoll_event](repeating: epoll_event(), count: 256)
    /// When libcurl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT); nil for no timer.
    private(set) var timerDue: ContinuousClock.Instant?

    init() throws(CurlError) {
        readiness = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard readiness >= 0 else { throw .setupFailed("epoll_create1", code: errno) }
        wakeupDescriptor = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard wakeupDescriptor >= 0 else {
            let code = errno
            close(readiness)
            throw .setupFailed("eventfd", code: code)
        }
        var interest = epoll_event()
        interest.events = EPOLLIN.rawValue
        interest.data.fd = wakeupDescriptor
        guard epoll_ctl(readiness, EPOLL_CTL_ADD, wakeupDescriptor, &interest) == 0 else {
            let code = errno
            close(wakeupDescriptor)
            close(readiness)
            throw .setupFailed("epoll_ctl(eventfd)", code: code)
        }
    }

    deinit {
        close(wakeupDescriptor)
        close(readiness)
    }

    /// Makes a `wait` in progress (or the next one) return at once. Any thread.
    func wakeup() {
        var one: UInt64 = 1
        // EAGAIN means the counter is already non-zero: the loop will wake anyway.
        _ = write(wakeupDescriptor, &one, MemoryLayout<UInt64>.size)
    }

    /// Installs the socket and timer callbacks on `multi`. The multi must not outlive `self`.
    func attach(to multi: UnsafeMutableRawPointer) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = tb_curl_multi_setopt_socket_callback(multi, curlSocketCallback)
        _ = tb_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, context)
        _ = tb_curl_multi_setopt_timer_callback(multi, curlTimerCallback)
        _ = tb_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, context)
    }

    /// Blocks until a socket is ready, the wakeup is written, or `timeoutMilliseconds` pass
    /// (-1: no limit). Drains the wakeup; returns the sockets libcurl should look at.
    func wait(timeoutMilliseconds: Int32) -> [Readiness] {
        let count = events.withUnsafeMutableBufferPointer { buffer in
            epoll_wait(readiness, buffer.baseAddress, Int32(buffer.count), timeoutMilliseconds)
        }
        guard count > 0 else { return [] }
        var ready: [Readiness] = []
        ready.reserveCapacity(Int(count))
        for event in events[0..<Int(count)] {
            let socket = event.data.fd
            if socket == wakeupDescriptor {
                var counter: UInt64 = 0
                _ = read(wakeupDescriptor, &counter, MemoryLayout<UInt64>.size)
                continue
            }
            var flags: Int32 = 0
            if event.events & EPOLLIN.rawValue != 0 { flags |= CURL_CSELECT_IN }
            if event.events & EPOLLOUT.rawValue != 0 { flags |= CURL_CSELECT_OUT }
            if event.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { flags |= CURL_CSELECT_ERR }
            ready.append(Readiness(socket: socket, curlFlags: flags))
        }
        return ready
    }

    /// Forgets libcurl's timer once it has been served (libcurl sets a new one if it needs one).
    func timerServed() {
        timerDue = nil
    }

    // MARK: - Called by libcurl (loop thread)

    fileprivate func watch(_ socket: Int32, what: Int32) {
        if what == CURL_POLL_REMOVE {
            if registered.remove(socket) != nil {
                // Fails harmlessly when libcurl already closed the socket (the kernel dropped it).
                _ = epoll_ctl(readiness, EPOLL_CTL_DEL, socket, nil)
            }
            return
        }
        var interest = epoll_event()
        if what & CURL_POLL_IN != 0 { interest.events |= EPOLLIN.rawValue }
        if what & CURL_POLL_OUT != 0 { interest.events |= EPOLLOUT.rawValue }
        interest.data.fd = socket
        // A socket number can come back after libcurl closed the old one without telling us, so
        // "already there" and "not there" are each answered by the other operation.
        let first = registered.contains(socket) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD
        if epoll_ctl(readiness, first, socket, &interest) != 0 {
            let second = first == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
            _ = epoll_ctl(readiness, second, socket, &interest)
        }
        registered.insert(socket)
    }

    fileprivate func setTimer(milliseconds: Int) {
        timerDue = milliseconds < 0 ? nil : .now + .milliseconds(milliseconds)
    }
}

private func curlSocketCallback(
    _ easy: UnsafeMutableRawPointer?, _ socket: curl_socket_t, _ what: Int32,
    _ context: UnsafeMutableRawPointer?, _ socketContext: UnsafeMutableRawPointer?
) -> Int32 {
    guard let context else { return 0 }
    Unmanaged<SocketWatcher>.fromOpaque(context).takeUnretainedValue().watch(socket, what: what)
    return 0
}

private func curlTimerCallback(
    _ multi: UnsafeMutableRawPointer?, _ milliseconds: Int, _ context: UnsafeMutableRawPointer?
) -> Int32 {
    guard let context else { return 0 }
    Unmanaged<SocketWatcher>.fromOpaque(context).takeUnretainedValue().setTimer(milliseconds: milliseconds)
    return 0
}
