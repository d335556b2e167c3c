import Foundation
import Synchronization

/// The process-wide pacers: a few threads, each with its own heap, so a benchmark's thousands of
/// streams (and the receivers' work on each token) are not all on one core. Streams are dealt out
/// round-robin; each stays on its pacer, so its outputs keep their order.
enum SharedPacers {
    static let pacers: [StreamPacer] = {
        let count = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount / 2))
        return (0..<count).map { StreamPacer(name: "tokenbridge.simulated.\($0)") }
    }()

    private static let counter = Atomic<Int>(0)

    static func next() -> StreamPacer {
        let index = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return pacers[Int(index.magnitude % UInt(pacers.count))]
    }
}
