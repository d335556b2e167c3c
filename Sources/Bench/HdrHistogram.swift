/// A high-dynamic-range histogram of non-negative integers (the bench records microseconds): every
/// value is kept to a fixed number of significant decimal digits, whatever its magnitude, in
/// memory that depends only on the range, not on how many values were recorded. A long run with
/// many subscribers records millions of latencies; this keeps them in about 190 KB.
///
/// Layout. Values below `subBucketCount` (2048 for 3 digits) are counted exactly, one slot each.
/// Above that, bucket `b` covers `[subBucketCount << (b - 1), subBucketCount << b)` with slots
/// `2^b` wide: half as many slots as bucket 0 over a range twice as wide as the one before, so a
/// slot is never wider than 1/1024 of the values in it. Slot `i` of the flat array is
/// `b * halfCount + (value >> b)`, which makes the buckets follow one another without a gap.
///
/// Percentiles are nearest-rank (the smallest value with at least p% of the values at or below
/// it), reported as the highest value of its slot, capped at the exact maximum: never below the
/// exact answer, at most 1/1024 above it (for 3 digits). The minimum and maximum are exact.
/// Values outside `0...highestTrackable` are clamped to it and counted in `outOfRange`.
public struct HdrHistogram: Sendable {
    public let significantDigits: Int
    /// The largest value kept apart from the others (one hour in microseconds by default).
    public let highestTrackable: Int64
    /// log2 of the slots of bucket 0.
    private let subBucketBits: Int
    /// Slots of the upper half of a bucket, the only half buckets above 0 use.
    private let halfCount: Int
    private let slotCount: Int
    /// Allocated on the first record: an unused histogram costs nothing, and a copy of an empty
    /// one (a progress snapshot) shares no buffer with the one still recording.
    private var counts: [UInt64] = []
    public private(set) var totalCount: UInt64 = 0
    /// Exact, after clamping; 0 when empty.
    public private(set) var min: Int64 = 0
    public private(set) var max: Int64 = 0
    /// Values that were below 0 or above `highestTrackable` and were clamped.
    public private(set) var outOfRange: UInt64 = 0

    /// One hour in microseconds.
    public static let oneHourMicroseconds: Int64 = 3_600_000_000

    /// - Parameters:
    ///   - significantDigits: decimal digits kept for every value, 1 to 5 (clamped).
    ///   - highestTrackable: values above it are clamped to it; raised to bucket 0's width (2048
    ///     for 3 digits) if below.
    public init(significantDigits: Int = 3, highestTrackable: Int64 = oneHourMicroseconds) {
        let digits = Swift.min(Swift.max(significantDigits, 1), 5)
        self.significantDigits = digits
        var power: Int64 = 1
        for _ in 0..<digits { power *= 10 }
        // Enough slots in bucket 0 that its width-1 slots hold 2 * 10^digits values exactly, and
        // so a slot of any later bucket is at most 1/10^digits of the values it holds.
        var bits = 1
        while (Int64(1) << bits) < 2 * power { bits += 1 }
        subBucketBits = bits
        halfCount = 1 << (bits - 1)
        self.highestTrackable = Swift.max(highestTrackable, Int64(1) << bits)
        slotCount = Self.slot(of: self.highestTrackable, bits: bits, half: 1 << (bits - 1)) + 1
    }

    public var isEmpty: Bool { totalCount == 0 }

    // MARK: - Recording

    /// Records `value` `count` times; a value outside `0...highestTrackable` is clamped and counted.
    public mutating func record(_ value: Int64, count: UInt64 = 1) {
        guard count > 0 else { return }
        var kept = value
        if value < 0 || value > highestTrackable {
            kept = value < 0 ? 0 : highestTrackable
            outOfRange += count
        }
        if counts.isEmpty { counts = [UInt64](repeating: 0, count: slotCount) }
        counts[slot(of: kept)] += count
        min = totalCount == 0 ? kept : Swift.min(min, kept)
        max = totalCount == 0 ? kept : Swift.max(max, kept)
        totalCount += count
    }

    /// Records a duration in whole microseconds (rounded down).
    public mutating func record(_ duration: Duration) {
        record(Self.microseconds(duration))
    }

    /// Adds every value `other` recorded, as if they had been recorded here.
    public mutating func merge(_ other: HdrHistogram) {
        guard !other.isEmpty else { return }
        if other.significantDigits == significantDigits, other.highestTrackable == highestTrackable {
            if counts.isEmpty {
                counts = other.counts
            } else {
                for index in other.counts.indices where other.counts[index] != 0 { counts[index] += other.counts[index] }
            }
            min = isEmpty ? other.min : Swift.min(min, other.min)
            max = isEmpty ? other.max : Swift.max(max, other.max)
            totalCount += other.totalCount
            outOfRange += other.outOfRange
            return
        }
        // Another layout: its slots, one value each, then its exact extremes put back.
        let (savedMin, savedMax, wasEmpty) = (min, max, isEmpty)
        for index in other.counts.indices where other.counts[index] != 0 {
            record(Swift.min(other.lowestValue(ofSlot: index), highestTrackable), count: other.counts[index])
        }
        min = wasEmpty ? other.min : Swift.min(savedMin, other.min)
        max = wasEmpty ? Swift.min(other.max, highestTrackable) : Swift.max(savedMax, Swift.min(other.max, highestTrackable))
        outOfRange += other.outOfRange
    }

    // MARK: - Reading

    /// The nearest-rank value at `percent` (0 to 100): the highest value of the slot where the
    /// cumulative count reaches the rank, capped at the exact maximum; 0 when empty.
    public func value(atPercentile percent: Double) -> Int64 {
        guard totalCount > 0 else { return 0 }
        // In thousandths of a percent, so that 99.9% of 1000 values is rank 999 and not 998.999...
        let scaled = UInt64(Swift.min(Swift.max((percent * 1000).rounded(), 0), 100_000))
        let rank = Swift.max(1, (scaled * totalCount + 99_999) / 100_000)
        var seen: UInt64 = 0
        for index in counts.indices where counts[index] != 0 {
            seen += counts[index]
            if seen >= rank { return Swift.min(highestValue(ofSlot: index), max) }
        }
        return max
    }

    /// The smallest and largest values that share `value`'s slot (are reported as the same).
    public func equivalentRange(of value: Int64) -> ClosedRange<Int64> {
        let index = slot(of: Swift.min(Swift.max(value, 0), highestTrackable))
        return lowestValue(ofSlot: index)...highestValue(ofSlot: index)
    }

    // MARK: - Slots

    private func slot(of value: Int64) -> Int {
        Self.slot(of: value, bits: subBucketBits, half: halfCount)
    }

    private static func slot(of value: Int64, bits: Int, half: Int) -> Int {
        // The bucket is how far the value's top bit lies above bucket 0's top bit (bits - 1).
        let top = 63 - (value | Int64((1 << bits) - 1)).leadingZeroBitCount
        let bucket = top - (bits - 1)
        return bucket * half + Int(value >> bucket)
    }

    private func bucketAndSubBucket(ofSlot index: Int) -> (bucket: Int, sub: Int) {
        let bucket = Swift.max(0, index / halfCount - 1)
        return (bucket, index - bucket * halfCount)
    }

    private func lowestValue(ofSlot index: Int) -> Int64 {
        let (bucket, sub) = bucketAndSubBucket(ofSlot: index)
        return Int64(sub) << bucket
    }

    private func highestValue(ofSlot index: Int) -> Int64 {
        let (bucket, sub) = bucketAndSubBucket(ofSlot: index)
        return (Int64(sub + 1) << bucket) - 1
    }

    /// Whole microseconds of a duration, saturating instead of overflowing (negatives stay negative,
    /// so `record` counts them as out of range).
    static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let limit = Int64.max / 1_000_000 - 1
        if seconds > limit { return .max }
        if seconds < -limit { return .min }
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

extension HdrHistogram: Equatable {
    /// Same layout and the same counts, extremes and totals (an unallocated histogram equals an
    /// allocated one whose counts are all zero).
    public static func == (lhs: HdrHistogram, rhs: HdrHistogram) -> Bool {
        guard lhs.significantDigits == rhs.significantDigits, lhs.highestTrackable == rhs.highestTrackable,
            lhs.totalCount == rhs.totalCount, lhs.min == rhs.min, lhs.max == rhs.max, lhs.outOfRange == rhs.outOfRange
        else { return false }
        if lhs.counts.isEmpty || rhs.counts.isEmpty {
            return lhs.counts.allSatisfy { $0 == 0 } && rhs.counts.allSatisfy { $0 == 0 }
        }
        return lhs.counts == rhs.counts
    }
}
