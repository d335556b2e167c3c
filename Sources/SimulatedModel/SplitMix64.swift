/// A small seedable pseudo-random generator (Steele, Lea and Flood's SplitMix64).
///
/// The standard library's generator cannot be seeded, and its `random(in:using:)` algorithms are
/// not promised to stay the same across Swift versions, so the simulated model draws every choice
/// through this type's own methods: the same seed gives the same text on every platform and release.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// A number in `0..<bound` (0 when `bound` is not positive).
    ///
    /// Multiply-high instead of modulo: the bias is below 2^-50 for the small bounds used here, and
    /// there is no rejection loop, so the number of draws per choice is fixed.
    mutating func int(below bound: Int) -> Int {
        guard bound > 0 else { return 0 }
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A number in `range`.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + int(below: range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int) -> Bool {
        int(below: 100) < percent
    }

    /// One element of a non-empty array.
    mutating func pick<T>(_ choices: [T]) -> T {
        choices[int(below: choices.count)]
    }

    /// The SplitMix64 finalizer: scrambles the bits of `value`; also used to turn hashes into seeds.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
