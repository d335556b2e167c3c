/// Which seqs of one stream arrived on one egress, from the seq every event carries (the channel's
/// offset, the queue message's `x-seq`): duplicates, late arrivals and gaps, whatever the order.
/// A merged event (a slow reader's coalesced deltas) covers several seqs at once.
struct SequenceCheck: Sendable {
    /// A seq beyond this is not believed (it would size the bitmap): counted as out of order.
    static let maximumSeq: UInt64 = 1 << 24

    /// Bit `s` set once seq `s` arrived.
    private var seen: [UInt64] = []
    /// The highest seq seen so far.
    private(set) var highest: UInt64 = 0
    /// Seqs that arrived at least once.
    private(set) var distinct = 0
    /// Seqs that arrived again.
    private(set) var duplicated = 0
    /// Seqs that arrived for the first time after a higher one had (or that made no sense).
    private(set) var outOfOrder = 0

    /// Notes an event covering seqs `from...to`; returns how many of them were new.
    @discardableResult
    mutating func note(from: UInt64, to: UInt64) -> Int {
        guard from >= 1, from <= to, to <= Self.maximumSeq else {
            outOfOrder += 1
            return 0
        }
        let words = Int(to / 64) + 1
        if seen.count < words { seen += Array(repeating: 0, count: words - seen.count) }
        var new = 0
        for seq in from...to {
            let (word, bit) = (Int(seq / 64), UInt64(1) << (seq % 64))
            if seen[word] & bit != 0 {
                duplicated += 1
                continue
            }
            seen[word] |= bit
            new += 1
            if seq < highest { outOfOrder += 1 }
        }
        distinct += new
        highest = max(highest, to)
        return new
    }

    /// Seqs below the highest one that never arrived (lost, unless they are still coming).
    var gaps: Int { Int(highest) - distinct }
}
