import Foundation
import Testing

@testable import Bench

/// A seeded generator, so a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("HDR histogram")
struct HdrHistogramTests {
    static let percents: [Double] = [0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100]

    /// Nearest rank over sorted values: the smallest with at least `percent`% at or below it.
    static func exact(_ percent: Double, of sorted: [Int64]) -> Int64 {
        let thousandths = Int((percent * 1000).rounded())
        let rank = max(1, (thousandths * sorted.count + 99_999) / 100_000)
        return sorted[min(rank, sorted.count) - 1]
    }

    /// Every percentile of `values` is at or above the exact one, by at most 1/1024 of it (3
    /// significant digits); count, min and max are exact.
    static func expectMatches(_ values: [Int64], _ comment: Comment) {
        var histogram = HdrHistogram()
        for value in values { histogram.record(value) }
        let sorted = values.sorted()
        #expect(histogram.totalCount == UInt64(values.count), comment)
        #expect(histogram.min == sorted.first, comment)
        #expect(histogram.max == sorted.last, comment)
        for percent in percents {
            let exact = Self.exact(percent, of: sorted)
            let reported = histogram.value(atPercentile: percent)
            #expect(
                reported >= exact && reported - exact <= exact / 1024,
                "p\(percent): \(reported) against exact \(exact); \(comment)")
        }
    }

    @Test(arguments: [1, 2, 3])
    func percentilesOfRandomDataAreWithinThePrecision(seed: UInt64) {
        var random = SplitMix64(state: seed)
        let uniform = (0..<20_000).map { _ in Int64.random(in: 0...HdrHistogram.oneHourMicroseconds, using: &random) }
        Self.expectMatches(uniform, "uniform over an hour, seed \(seed)")
        // Log-uniform: as many values per decade from 1 µs to an hour, as latencies spread.
        let logUniform = (0..<20_000).map { _ in
            Int64(exp(Double.random(in: 0...log(3.6e9), using: &random)).rounded(.down))
        }
        Self.expectMatches(logUniform, "log-uniform, seed \(seed)")
        // Narrow: thousands of values inside a few wide slots around 5 s.
        let narrow = (0..<5_000).map { _ in Int64.random(in: 5_000_000...5_004_000, using: &random) }
        Self.expectMatches(narrow, "narrow around 5 s, seed \(seed)")
    }

    @Test func percentilesOfAdversarialDataAreWithinThePrecision() {
        // Every side of every bucket boundary.
        let boundaries = (1..<32).flatMap { bit in [Int64(1) << bit - 1, Int64(1) << bit, Int64(1) << bit + 1] }
        Self.expectMatches(boundaries, "both sides of every power of two")
        Self.expectMatches(boundaries.reversed(), "the same, descending")
        for value: Int64 in [0, 1, 2047, 2048, 4095, 4096, 1_000_000_007, HdrHistogram.oneHourMicroseconds] {
            Self.expectMatches(Array(repeating: value, count: 777), "777 times \(value)")
        }
        // One huge outlier per thousand tiny values: p99.9 must still be tiny, p99.99 huge.
        let outliers = (0..<10_000).map { $0 % 1000 == 999 ? HdrHistogram.oneHourMicroseconds : 1 }
        Self.expectMatches(outliers, "rare outliers at an hour")
        // A rank that floating point gets wrong: 90% of 10 values is the 9th, not the 10th.
        Self.expectMatches(Array(1...10), "1 to 10")
        var tenValues = HdrHistogram()
        for value in Int64(1)...10 { tenValues.record(value) }
        #expect(tenValues.value(atPercentile: 90) == 9)
        #expect(tenValues.value(atPercentile: 99.9) == 10)
        Self.expectMatches([42], "one value")
        // The widest slots of the range, each holding one value near its bottom.
        let slotBottoms = (11..<31).map { Int64(1) << $0 + 1 }
        Self.expectMatches(slotBottoms, "one value at the bottom of each bucket")
    }

    @Test func theMaximumIsExactEvenInsideAWideSlot() {
        var histogram = HdrHistogram()
        for value: Int64 in [5, 900, 123_456_789, 123_456_001] { histogram.record(value) }
        #expect(histogram.max == 123_456_789)
        #expect(histogram.value(atPercentile: 100) == 123_456_789)
        // The slot holding both large values is wider than their difference: it reports one
        // value for both, the highest of the slot capped at the maximum.
        #expect(histogram.equivalentRange(of: 123_456_001).contains(123_456_789))
        #expect(histogram.value(atPercentile: 75) == 123_456_789)
        let summary = Percentiles(histogram)
        #expect(summary?.max == .microseconds(123_456_789))
        #expect(summary?.count == 4)
    }

    @Test(arguments: [7, 8])
    func mergingTwoHistogramsEqualsRecordingEverythingInOne(seed: UInt64) {
        var random = SplitMix64(state: seed)
        var first = HdrHistogram()
        var second = HdrHistogram()
        var all = HdrHistogram()
        for index in 0..<30_000 {
            let value = Int64.random(in: 0...(index % 2 == 0 ? 10_000 : 50_000_000_000), using: &random)
            if index % 3 == 0 { first.record(value) } else { second.record(value) }
            all.record(value)
        }
        var merged = first
        merged.merge(second)
        #expect(merged == all)
        #expect(merged.outOfRange == all.outOfRange && all.outOfRange > 0)
        for percent in Self.percents {
            #expect(merged.value(atPercentile: percent) == all.value(atPercentile: percent))
        }
        var intoEmpty = HdrHistogram()
        intoEmpty.merge(all)
        intoEmpty.merge(HdrHistogram())
        #expect(intoEmpty == all)
    }

    @Test func mergingAnotherLayoutKeepsCountAndExtremes() {
        var coarse = HdrHistogram(significantDigits: 2, highestTrackable: 1_000_000)
        for value: Int64 in [3, 77_777, 999_999] { coarse.record(value) }
        var fine = HdrHistogram()
        fine.record(10)
        fine.merge(coarse)
        #expect(fine.totalCount == 4)
        #expect(fine.min == 3 && fine.max == 999_999)
        #expect(fine.value(atPercentile: 50) <= 10)
    }

    @Test func outOfRangeValuesAreClampedAndCounted() {
        var histogram = HdrHistogram(highestTrackable: 1_000_000)
        for value: Int64 in [-1, .min, .max, 1_000_001, 500] { histogram.record(value) }
        histogram.record(Duration.seconds(Int64.max))
        histogram.record(Duration.seconds(-5))
        #expect(histogram.totalCount == 7)
        #expect(histogram.outOfRange == 6)
        #expect(histogram.min == 0)
        #expect(histogram.max == 1_000_000)
        #expect(histogram.value(atPercentile: 50) == 500)
        #expect(histogram.value(atPercentile: 100) == 1_000_000)
        #expect(Percentiles(histogram)?.outOfRange == 6)
        // Recording 0 times records nothing.
        histogram.record(3, count: 0)
        #expect(histogram.totalCount == 7)
    }

    @Test func durationsAreRecordedInMicroseconds() {
        var histogram = HdrHistogram()
        histogram.record(Duration.milliseconds(12) + .nanoseconds(999))
        #expect(histogram.max == 12_000)
        let summary = Percentiles(histogram)
        #expect(summary?.p999 == .milliseconds(12))
        #expect(Percentiles(HdrHistogram()) == nil)
    }

    @Test func anEmptyHistogramReportsNothing() {
        let histogram = HdrHistogram()
        #expect(histogram.isEmpty && histogram.value(atPercentile: 99) == 0 && histogram.max == 0)
        #expect(histogram == HdrHistogram())
    }
}
