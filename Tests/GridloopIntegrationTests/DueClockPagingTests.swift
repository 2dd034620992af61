import Foundation
import GridloopCore
import GridloopPipeline
import GridloopPostgres
import GridloopSettings
import GridloopStore
import XCTest

/// Firing reads due clocks in pages, each after the last clock the previous page read, so that
/// the next page can be read while the previous one commits. Every due clock must come back
/// exactly once, earliest first per partition, and nothing due after the watermark.
final class DueClockPagingTests: XCTestCase {
    func testPagesReturnEveryDueClockOnceAndNothingAfterTheWatermark() throws {
        let database = try TestEnvironment.createDatabase("due_paging")
        let db = try PostgresConnection(database)
        _ = try Migrator.migrate(db)
        let topic = "hotline.12345.workorders"
        let t0: Int64 = 1_764_000_000_000
        // 3 partitions; 900 clocks; a third share one due instant (ties broken by case id), the
        // rest spread over 900 s; every tenth has nothing pending.
        try db.execute(
            """
            INSERT INTO case_clocks (case_id, topic, partition, level, next_due, clock)
            SELECT '12345:P' || i, '\(topic)', i % 3, 'ESTATE',
                   CASE WHEN i % 10 = 0 THEN NULL
                        WHEN i % 3 = 1 THEN to_timestamp(\(t0 + 5_000) / 1000.0)
                        ELSE to_timestamp((\(t0) + i * 1000) / 1000.0) END,
                   jsonb_build_object('caseId', '12345:P' || i, 'topic', '\(topic)', 'partition', i % 3,
                     'level', 'ESTATE', 'assignment', 1, 'assignedAt', \(t0), 'platformAssigned', true,
                     'sign', jsonb_build_object('kind', 'SIGN', 'limit', '2wh', 'stage', 0, 'deadline', \(t0), 'warningAt', \(t0), 'urges', 0),
                     'handle', jsonb_build_object('kind', 'HANDLE', 'limit', '2wd', 'stage', 0, 'deadline', \(t0), 'warningAt', \(t0), 'urges', 0),
                     'suspensions', '[]'::jsonb, 'escalations', 0, 'awaitingRedispatch', false, 'replied', false, 'closed', false)
            FROM generate_series(1, 900) i
            """)
        let watermark = t0 + 600_000
        let dueRows = try db.query(
            """
            SELECT case_id, partition FROM case_clocks
            WHERE next_due IS NOT NULL AND next_due <= to_timestamp(\(watermark) / 1000.0)
            """)
        let expected = Set((0..<dueRows.count).map { dueRows.string($0, 0)! })
        XCTAssertGreaterThan(expected.count, 400, "the seed has clocks due before the watermark")
        XCTAssertLessThan(expected.count, 810, "and clocks due after it")

        let store = try IntakeStore(
            connection: db, consumerGroup: "g", deadLetterTopic: "dlq",
            decode: IntakeService.decoder(for: GridloopConfig().topics))
        var cursors = (0..<3).map {
            IntakeStore.DueCursor(TopicPartition(topic: topic, partition: Int32($0)), watermark: watermark)
        }
        var seen: [String] = []
        var pages = 0
        let perPartition = 40
        while !cursors.isEmpty {
            guard pages < 100 else { return XCTFail("the pages never end: the cursors do not move") }
            let page = try store.dueClocks(&cursors, perPartition: perPartition)
            if page.isEmpty { break }
            pages += 1
            var returned: [Int32: Int] = [:]
            for c in page { returned[c.partition, default: 0] += 1 }
            XCTAssertTrue(returned.values.allSatisfy { $0 <= perPartition }, "at most \(perPartition) a partition")
            seen += page.map(\.caseId)
            // Nothing of this page is written back before the next page is read: the cursors
            // alone keep the pages apart (as while a page commits).
            cursors.removeAll { (returned[$0.partition] ?? 0) < perPartition }
        }
        XCTAssertEqual(seen.count, Set(seen).count, "no clock returned twice")
        XCTAssertEqual(Set(seen), expected, "every due clock returned, none due after the watermark")
        XCTAssertGreaterThan(pages, 3, "the clocks came in several pages")

        // Earliest first within a partition: the order of the pages is the order of next_due.
        let order = try db.query(
            """
            SELECT case_id FROM case_clocks WHERE partition = 1 AND next_due <= to_timestamp(\(watermark) / 1000.0)
            ORDER BY next_due, case_id
            """)
        let p1 = (0..<order.count).map { order.string($0, 0)! }
        let inP1 = Set(p1)
        XCTAssertEqual(seen.filter { inP1.contains($0) }, p1, "partition 1 in due order, ties by case id")
    }
}
