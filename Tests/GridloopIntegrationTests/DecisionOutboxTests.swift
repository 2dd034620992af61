import GridloopKafka
import GridloopPostgres
import GridloopSettings
import GridloopStore
import XCTest

@testable import GridloopCore
@testable import GridloopPipeline

/// The outbox is a queue of what is still to be published; `sla_decisions` is the record. A
/// decision taken again (a replay after a crash, a partition taken over) must not be queued a
/// second time, even after its first event was published and left the outbox, nor twice within
/// one batch, while the new decisions of the same batch are queued, in the order they were taken.
final class DecisionOutboxTests: XCTestCase {
    func testADecisionTakenAgainIsNotQueuedTwiceAndNewOnesKeepTheirOrder() throws {
        let database = try TestEnvironment.createDatabase("decision_outbox")
        let db = try PostgresConnection(database)
        _ = try Migrator.migrate(db)
        let store = try IntakeStore(
            connection: db, consumerGroup: "g", deadLetterTopic: "dlq",
            decode: IntakeService.decoder(for: GridloopConfig().topics))
        let t0: Int64 = 1_764_000_000_000
        func decision(_ n: Int) -> DecisionRecord {
            let d = SLADecision(
                id: "12345:HF\(n)/a1/sign/overdue", caseId: "12345:HF\(n)", time: t0 + Int64(n),
                kind: .overdue(limit: .sign, deadline: t0))
            return DecisionRecord(
                decision: d, level: .estate, unitCode: "E1", topic: "gridloop.supervision", payload: Array("{\"n\":\(n)}".utf8))
        }
        func commit(_ numbers: [Int]) throws {
            var changes = ClockChanges()
            changes.decisions = numbers.map(decision)
            try store.commit(IntakePlanner(states: [:], appliedKeys: [], held: []), clocks: changes, expected: [], next: [])
        }
        func queued() throws -> [String] {
            let r = try db.query("SELECT id FROM outbox ORDER BY seq")
            return (0..<r.count).map { r.string($0, 0)! }
        }

        try commit([1, 2])
        XCTAssertEqual(try queued(), ["12345:HF1/a1/sign/overdue", "12345:HF2/a1/sign/overdue"])
        try db.execute("DELETE FROM outbox")  // what the relay does once the broker has them

        // 1 and 2 again (already published), with 5, 3, 4 new: only the new ones, in order.
        try commit([1, 5, 2, 3, 4])
        XCTAssertEqual(try queued(), ["12345:HF5/a1/sign/overdue", "12345:HF3/a1/sign/overdue", "12345:HF4/a1/sign/overdue"])
        XCTAssertEqual(try db.query("SELECT count(*) FROM sla_decisions").int(0, 0), 5, "each decision recorded once")
        // The same columns whichever way a decision was written: copied straight in (1, 2: a
        // batch of new decisions) or through the stage (3, 4, 5: a batch with replays).
        let rows = try db.query(
            """
            SELECT d.id, d.case_id, d.type, d.level, d.clock, extract(epoch FROM d.decided_at) * 1000,
                   extract(epoch FROM d.deadline) * 1000, convert_from(o.payload, 'UTF8'),
                   convert_from(o.msg_key, 'UTF8')
            FROM sla_decisions d LEFT JOIN outbox o USING (id) ORDER BY d.id
            """)
        XCTAssertEqual(rows.count, 5)
        // What the relay publishes: the headers are stored with each row.
        let published = Dictionary(
            uniqueKeysWithValues: try OutboxQueue.oldest(10, connection: db).map { ($0.message.id, $0.message.headers) })
        for i in 0..<rows.count {
            let n = i + 1
            XCTAssertEqual(rows.string(i, 1), "12345:HF\(n)")
            XCTAssertEqual(rows.string(i, 2), "gridloop.case.supervision.overdue")
            XCTAssertEqual(rows.string(i, 3), "ESTATE")
            XCTAssertEqual(rows.string(i, 4), "SIGN")
            XCTAssertEqual(rows.string(i, 5).flatMap { Double($0) }.map { Int64($0) }, t0 + Int64(n))
            XCTAssertEqual(rows.string(i, 6).flatMap { Double($0) }.map { Int64($0) }, t0)
            if n >= 3 {  // still queued
                XCTAssertEqual(rows.string(i, 7), "{\"n\":\(n)}")
                XCTAssertEqual(rows.string(i, 8), "12345:HF\(n)")
                // Published with the headers that follow from the id.
                let headers = try XCTUnwrap(published[rows.string(i, 0)!])
                XCTAssertEqual(headers.map(\.name), ["content-type", "gridloop-id"])
                XCTAssertEqual(
                    headers.first { $0.name == "gridloop-id" }?.value.map { String(decoding: $0, as: UTF8.self) },
                    "12345:HF\(n)/a1/sign/overdue")
                XCTAssertEqual(
                    headers.first { $0.name == "content-type" }?.value.map { String(decoding: $0, as: UTF8.self) },
                    "application/cloudevents+json; charset=UTF-8")
            }
        }
        let topics = try db.query("SELECT DISTINCT topic FROM sla_decisions")
        XCTAssertEqual(topics.count, 1)
        XCTAssertEqual(topics.string(0, 0), "gridloop.supervision", "the record says where the event went")

        // All of a batch taken before: nothing queued.
        try db.execute("DELETE FROM outbox")
        try commit([3, 4])
        XCTAssertEqual(try queued(), [])

        // The same decision twice in one batch: one event.
        try commit([6, 6])
        XCTAssertEqual(try queued(), ["12345:HF6/a1/sign/overdue"])
    }
}
