import Testing

@testable import Centrifuge

@Suite("Retired channel positions")
struct RetiredPositionsTests {
    private let start = ContinuousClock.now

    @Test func aPositionIsTakenBackOnceAndOnlyWithinItsTTL() {
        var retired = RetiredPositions(ttl: .seconds(60))
        retired.retire("a", .init(epoch: "EPOCH", top: 7), now: start)
        #expect(retired.position(of: "a", now: start + .seconds(59))?.top == 7)
        #expect(retired.position(of: "a", now: start + .seconds(60)) == nil)
        #expect(retired.takeBack("a", now: start + .seconds(1))?.epoch == "EPOCH")
        #expect(retired.takeBack("a", now: start + .seconds(2)) == nil)

        retired.retire("b", .init(epoch: "E", top: 1), now: start)
        #expect(retired.takeBack("b", now: start + .seconds(61)) == nil)
        #expect(retired.count == 0)
    }

    @Test func aChannelThatNeverPublishedLeavesNothingBehind() {
        var retired = RetiredPositions(ttl: .seconds(60))
        retired.retire("quiet", .init(epoch: "E", top: 0), now: start)
        #expect(retired.count == 0)
    }

    @Test func beyondCapacityTheOldestGoFirst() {
        var retired = RetiredPositions(ttl: .seconds(3600), capacity: 3)
        for (index, name) in ["a", "b", "c", "d"].enumerated() {
            retired.retire(name, .init(epoch: name, top: 1), now: start + .seconds(index))
        }
        #expect(retired.count == 3)
        #expect(retired.position(of: "a", now: start + .seconds(5)) == nil)
        #expect(retired.position(of: "d", now: start + .seconds(5))?.epoch == "d")
    }

    @Test func retiringTheSameNameOverAndOverKeepsItsNewestPosition() {
        var retired = RetiredPositions(ttl: .seconds(3600), capacity: 2)
        for round in 1...9_999 {
            retired.retire("loop", .init(epoch: "E", top: UInt64(round)), now: start + .milliseconds(round))
            if round % 2 == 0 { _ = retired.takeBack("loop", now: start + .milliseconds(round)) }
        }
        retired.retire("other", .init(epoch: "O", top: 1), now: start + .seconds(20))
        #expect(retired.count == 2)
        #expect(retired.position(of: "loop", now: start + .seconds(21))?.top == 9_999)
    }
}
