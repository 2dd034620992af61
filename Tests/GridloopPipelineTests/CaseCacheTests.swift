import GridloopCore
import XCTest

@testable import GridloopPipeline

/// The intake's cache of cases stays within its memory budget over a long run: a finished case
/// leaves it once the job that finished it has committed (never before: the database would not
/// have it yet), and past the budget entries are dropped.
final class CaseCacheTests: XCTestCase {
    private func state(_ id: String, _ status: CaseStatus) -> CaseState {
        CaseState(
            caseId: id, source: .hotline12345, orderNo: id, status: status, level: .estate, unitCode: "E1",
            unitName: "物业", order: OrderFacts(categoryName: "c", urgency: .normal, acceptTime: 0),
            assignedAt: 0, lastEventTime: 0)
    }

    func testAFinishedCaseLeavesOnlyOnceItsJobHasCommitted() {
        var cache = CaseCache(budget: 1 << 30)
        cache.job = 1
        cache["a"] = .init(state: state("a", .dispatched), keys: [])
        cache["b"] = .init(state: state("b", .dispatched), keys: [])
        cache.job = 2
        cache["a"]!.state = state("a", .closed)
        cache["b"]!.state = state("b", .withdrawn)
        cache.evictFinished(committedUpTo: 1)
        XCTAssertNotNil(cache["a"], "job 2 is not committed: the database does not have the closure yet")
        // Job 3 changes b again (a late event): it must stay until job 3 has committed.
        cache.job = 3
        cache["b"]!.keys.insert("m1")
        cache.evictFinished(committedUpTo: 2)
        XCTAssertNil(cache["a"])
        XCTAssertNotNil(cache["b"])
        cache.evictFinished(committedUpTo: 3)
        XCTAssertNil(cache["b"])
        XCTAssertEqual(cache.count, 0)
        XCTAssertEqual(cache.bytes, 0)
    }

    func testAReopenedCaseStays() {
        var cache = CaseCache(budget: 1 << 30)
        cache.job = 1
        cache["a"] = .init(state: state("a", .closed), keys: [])
        cache.job = 2
        cache["a"]!.state = state("a", .reopened)
        cache.evictFinished(committedUpTo: 5)
        XCTAssertNotNil(cache["a"], "open again: it stays")
    }

    func testAnOpenCaseIdleForTenMinutesLeavesOnceCommitted() {
        var cache = CaseCache(budget: 1 << 30)
        cache.tick = 1000
        cache.job = 1
        cache["quiet"] = .init(state: state("quiet", .replied), keys: [])
        cache["busy"] = .init(state: state("busy", .signed), keys: [])
        cache.tick = 1000 + CaseCache.idleSeconds - 1
        cache.job = 7
        cache["busy"]!.keys.insert("m2")
        cache.evictIdle(committedUpTo: 7)
        XCTAssertNotNil(cache["quiet"], "not idle for ten minutes yet")
        cache.tick = 1000 + CaseCache.idleSeconds + 1
        cache.evictIdle(committedUpTo: 0)
        XCTAssertNotNil(cache["quiet"], "its change is not committed: the database would not have it")
        cache.evictIdle(committedUpTo: 1)
        XCTAssertNil(cache["quiet"])
        XCTAssertNotNil(cache["busy"], "changed since")
        XCTAssertEqual(cache.count, 1)
    }

    func testOpenCasesAreBoundedByTheBudget() {
        let entry = CaseCache.entryBytes(.init(state: state("x", .signed), keys: ["k"]))
        var cache = CaseCache(budget: 1000 * entry)
        for i in 0..<1001 { cache["c\(i)"] = .init(state: state("c\(i)", .signed), keys: ["k"]) }
        XCTAssertTrue(cache.isOverBudget)
        XCTAssertEqual(cache.bytes, 1001 * entry)
        cache.shrink()
        XCTAssertFalse(cache.isOverBudget)
        XCTAssertLessThanOrEqual(cache.bytes, 750 * entry)
        XCTAssertEqual(cache.bytes, cache.count * entry, "the estimate follows the entries")
        cache.removeAll()
        XCTAssertEqual(cache.bytes, 0)
    }
}
