import GridloopCore
import XCTest

/// The firing pass's decisions: each partition's watermark, the pages' sizes, the end of a pass.
final class FiringPassTests: XCTestCase {
    let a = TopicPartition(topic: "hotline.12345.workorders", partition: 0)
    let b = TopicPartition(topic: "hotline.12345.workorders", partition: 1)
    let c = TopicPartition(topic: "hotline.12319.events", partition: 0)
    let now: Int64 = 1_800_000_000_000

    func testACaughtUpPartitionRunsOnTheWallClockUnlessItsEventsAreAhead() {
        let caughtUp = FiringPass.Partition(a, position: 10, high: 10, eventTime: now - 5_000)
        XCTAssertEqual(FiringPass.watermark(now: now, caughtUp), now)
        let ahead = FiringPass.Partition(a, position: 10, high: 10, eventTime: now + 5_000)
        XCTAssertEqual(FiringPass.watermark(now: now, ahead), now + 5_000, "event time ahead of the wall clock is kept")
        let emptyLog = FiringPass.Partition(a, position: -2, high: 0, eventTime: nil)
        XCTAssertEqual(FiringPass.watermark(now: now, emptyLog), now, "an empty log is caught up")
    }

    func testAPartitionWithABacklogRunsOnEventTime() {
        let behind = FiringPass.Partition(a, position: 10, high: 500, eventTime: now - 86_400_000)
        XCTAssertEqual(
            FiringPass.watermark(now: now, behind), now - 86_400_000,
            "a SIGN still in the backlog must be able to stop its clock before the deadline")
        let unknownHigh = FiringPass.Partition(a, position: 10, high: -1, eventTime: now - 1_000)
        XCTAssertEqual(FiringPass.watermark(now: now, unknownHigh), now - 1_000)
        let nothingYet = FiringPass.Partition(a, position: -2, high: 500, eventTime: nil)
        XCTAssertNil(FiringPass.watermark(now: now, nothingYet), "behind with no event consumed: nothing is known to be due")
        let pass = FiringPass(now: now, partitions: [nothingYet])
        XCTAssertNil(pass.perPartition, "a pass with no partition to fire on reads nothing")
    }

    func testPagesShareTheirClocksBetweenThePartitionsStillOpenAndThePassEnds() {
        var pass = FiringPass(
            now: now,
            partitions: [
                .init(c, position: 1, high: 1, eventTime: nil), .init(b, position: 1, high: 1, eventTime: nil),
                .init(a, position: 1, high: 1, eventTime: nil),
            ])
        XCTAssertEqual(pass.open, [c, a, b], "in a stable order")
        XCTAssertEqual(pass.perPartition, FiringPass.pageClocks / 3)
        let asked = pass.perPartition!
        pass.read(returned: [a: asked, b: 10, c: asked], asked: asked)
        XCTAssertEqual(pass.open, [c, a], "a partition that gave fewer than asked has nothing more due")
        XCTAssertEqual(pass.perPartition, FiringPass.pageClocks / 2)
        pass.read(returned: [:], asked: pass.perPartition!)
        XCTAssertNil(pass.perPartition, "nothing more due anywhere: the pass is over")
        XCTAssertEqual(pass.pages, 2)
    }

    func testManyPartitionsStillAskForAWorthwhilePageAndAPassStopsAfterItsLastPage() {
        let many = (0..<100).map {
            FiringPass.Partition(TopicPartition(topic: "t", partition: Int32($0)), position: 0, high: 0, eventTime: nil)
        }
        var pass = FiringPass(now: now, partitions: many)
        XCTAssertEqual(pass.perPartition, FiringPass.minPerPartition, "not 2000 / 100 = 20")
        var pages = 0
        while let asked = pass.perPartition {
            pass.read(returned: Dictionary(uniqueKeysWithValues: pass.open.map { ($0, asked) }), asked: asked)
            pages += 1
        }
        XCTAssertEqual(pages, FiringPass.maxPages, "a burst yields to the intake after its last page; the next pass goes on")
        XCTAssertEqual(pass.open.count, 100, "every partition still has clocks due for the next pass")
    }
}
