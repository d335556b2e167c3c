import CRabbitMQ
import Glibc

/// The pthread a connection runs on. A plain thread, not a Swift concurrency one: it blocks in
/// poll and in rabbitmq-c's synchronous calls.
struct ConnectionThread: Sendable {
    let raw: pthread_t

    static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(AMQPError) -> ConnectionThread {
        let context = Unmanaged.passRetained(ThreadBody(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, connectionThreadEntry, context)
        guard rc == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            throw AMQPError(.setupFailed, "pthread_create failed: \(rc)")
        }
        return ConnectionThread(raw: thread)
    }

    func join() { _ = pthread_join(raw, nil) }
    func detach() { _ = pthread_detach(raw) }

    static func currentID() -> UInt { UInt(pthread_self()) }
}

private final class ThreadBody {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

private func connectionThreadEntry(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let argument else { return nil }
    // Balances passRetained in `start`.
    let context = Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue()
    // Linux keeps the first 15 bytes of a thread name.
    tb_amqp_name_current_thread(context.name)
    context.body()
    return nil
}
