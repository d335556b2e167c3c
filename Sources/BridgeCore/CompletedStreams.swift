/// How a recent stream ended.
public struct StreamCompletion: Sendable, Equatable {
    /// The run that answered it.
    public var epoch: String
    public var at: ContinuousClock.Instant

    public init(epoch: String, at: ContinuousClock.Instant) {
        self.epoch = epoch
        self.at = at
    }
}

/// Streams that reached a terminal event recently: a prompt redelivered after its answer was
/// complete (an ack lost with the connection) is recognised instead of generated again.
///
/// Bounded twice: entries leave after `retention`, and beyond `capacity` the oldest leave first.
/// A uid is kept as a 128-bit keyed digest, not as its text: entries of a fixed size and no
/// allocation each (measured at 100,000 entries with 36-character uids: about 270 bytes of RSS
/// an entry, the dictionary and its expiry order included, instead of about 365). The key is
/// drawn per process, so nobody can pick a uid whose digest meets another's; by chance two of
/// 100,000 uids meet with a probability of about 10^-29.
public struct CompletedStreams: Sendable {
    public typealias Completion = StreamCompletion

    private var completions: ExpiringDictionary<UIDDigest, Completion>

    public init(retention: Duration, capacity: Int = 100_000) {
        completions = ExpiringDictionary(ttl: retention, capacity: capacity)
    }

    public var retention: Duration { completions.ttl }
    public var count: Int { completions.count }

    public mutating func record(uid: String, _ completion: Completion) {
        completions.store(UIDDigest(uid), completion, at: completion.at)
    }

    public func lookup(_ uid: String, now: ContinuousClock.Instant = .now) -> Completion? {
        completions.value(UIDDigest(uid), now: now)
    }
}

/// Two 64-bit SipHash values of a uid under the process's random hashing seed, told apart by a
/// leading discriminator: 128 bits that stand for the uid in `CompletedStreams`.
struct UIDDigest: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    init(_ uid: String) {
        high = Self.half(uid, discriminator: 0x68)
        low = Self.half(uid, discriminator: 0x6C)
    }

    private static func half(_ uid: String, discriminator: UInt8) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(discriminator)
        hasher.combine(uid)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }
}
