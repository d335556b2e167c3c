extension RandomAccessCollection {
    /// The first index whose element `isAfter` says is past the point, for a collection in which
    /// every such element comes after every other (sorted by the key `isAfter` tests): a binary
    /// search. `endIndex` when none is.
    public func partitionIndex(where isAfter: (Element) -> Bool) -> Index {
        var low = startIndex
        var count = self.count
        while count > 0 {
            let half = count / 2
            let middle = index(low, offsetBy: half)
            if isAfter(self[middle]) {
                count = half
            } else {
                low = index(after: middle)
                count -= half + 1
            }
        }
        return low
    }
}
