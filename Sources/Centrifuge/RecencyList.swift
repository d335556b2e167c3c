/// The channels that have history, least recently published first: a doubly linked list over
/// slot indices, so that a publication moves its channel to the back in O(1) and trimming over
/// the budget takes from the front instead of sorting every channel.
///
/// Each channel keeps its slot in its own state (`Channel.State.recencySlot`), changed only under
/// the channel's lock and then this list's (the hub's lock order).
struct RecencyList {
    private var channels: [Channel?] = []
    private var previous: [Int] = []
    private var next: [Int] = []
    private var freeSlots: [Int] = []
    private var head = -1
    private var tail = -1
    private(set) var count = 0

    /// Adds `channel` at the back (the most recent); returns its slot.
    mutating func append(_ channel: Channel) -> Int {
        let slot: Int
        if let reused = freeSlots.popLast() {
            slot = reused
            channels[slot] = channel
        } else {
            slot = channels.count
            channels.append(channel)
            previous.append(-1)
            next.append(-1)
        }
        link(slot)
        count += 1
        return slot
    }

    /// Moves the channel at `slot` to the back.
    mutating func touch(_ slot: Int) {
        guard slot != tail else { return }
        unlink(slot)
        link(slot)
    }

    mutating func remove(_ slot: Int) {
        unlink(slot)
        channels[slot] = nil
        freeSlots.append(slot)
        count -= 1
    }

    /// The least recently published channel and its slot.
    var oldest: (channel: Channel, slot: Int)? {
        guard head >= 0, let channel = channels[head] else { return nil }
        return (channel, head)
    }

    private mutating func link(_ slot: Int) {
        previous[slot] = tail
        next[slot] = -1
        if tail >= 0 { next[tail] = slot } else { head = slot }
        tail = slot
    }

    private mutating func unlink(_ slot: Int) {
        let before = previous[slot]
        let after = next[slot]
        if before >= 0 { next[before] = after } else { head = after }
        if after >= 0 { previous[after] = before } else { tail = before }
        previous[slot] = -1
        next[slot] = -1
    }
}
