import CRabbitMQ
import Glibc

/// An eventfd the connection thread polls beside its socket: rabbitmq-c has no wake-up call of its
/// own, so other threads write here after queueing work.
final class WakeupEvent: Sendable {
    let descriptor: Int32

    init() throws(AMQPError) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw AMQPError(.setupFailed, "eventfd failed: errno \(errno)") }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// Any thread.
    func signal() {
        var one: UInt64 = 1
        _ = write(descriptor, &one, MemoryLayout<UInt64>.size)
    }

    /// Connection thread: clears the counter after a poll saw it.
    func reset() {
        var count: UInt64 = 0
        _ = read(descriptor, &count, MemoryLayout<UInt64>.size)
    }
}
