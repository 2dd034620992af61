import GridloopPostgres
import GridloopStore
import XCTest

@testable import GridloopCore

/// A held event is stored as its message's bytes and decoded again when read. A later version
/// may refuse bytes an earlier one held: such a row must not be skipped at every expiry pass for
/// ever (each pass drains the commit pipeline first), but become a dead letter that says why.
final class HeldRowDecodeTests: XCTestCase {
    func testAHeldRowThatNoLongerDecodesIsDeadLetteredWhenItsWaitEnds() throws {
        let db = try PostgresConnection(try TestEnvironment.createDatabase("held_row_decode"))
        _ = try Migrator.migrate(db)
        // This version's decoder refuses what the row holds.
        let store = try IntakeStore(
            connection: db, consumerGroup: "g", deadLetterTopic: "gridloop.deadletter",
            decode: { _, _, _ in .rejected(reason: "field \"event_seq\": above the limit") })
        try db.execute(
            """
            INSERT INTO held_events (event_key, case_id, sequence, topic, partition, "offset", msg_key, msg_value, held_at,
                                     msg_header_names, msg_header_values)
            VALUES ('12319:12319-7#3', '12319:12319-7', 3, 'hotline.12319.events', 1, 77, '\\x6b', '\\x7b7d',
                    now() - interval '1 hour', '{trace}', ARRAY['\\x01'::bytea])
            """)
        let partitions = [PartitionOffset(TopicPartition(topic: "hotline.12319.events", partition: 1), offset: 0)]
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        XCTAssertEqual(try store.heldEvents(caseIds: ["12319:12319-7"]).count, 0, "not an event of its case")
        XCTAssertTrue(try store.hasHeld(before: now, partitions: partitions))

        let held = try store.expiredHeld(before: now, partitions: partitions)
        XCTAssertEqual(held.events.count, 0)
        XCTAssertEqual(held.undecodable.map(\.eventKey), ["12319:12319-7#3"])
        // What the intake's expiry pass does with it (IntakeService.expireHeld): the row goes with
        // the commit, its bytes become a dead letter.
        var plan = IntakePlanner(states: [:], appliedKeys: [], held: [])
        for u in held.undecodable { plan.deadLetterHeldRow(eventKey: u.eventKey, u.letter) }
        let fence = try store.offsets(for: partitions)
        try store.commit(plan, expected: fence, next: fence)
        XCTAssertEqual(plan.deadLetters.map(\.coordinates.offset), [77])
        XCTAssertFalse(try store.hasHeld(before: now, partitions: partitions), "the next pass finds nothing to do")
        let letter = try db.query("SELECT reason, case_id, msg_header_names::text FROM dead_letters")
        XCTAssertEqual(letter.count, 1)
        XCTAssertEqual(
            letter.string(0, 0), "held event 12319:12319-7#3 no longer decodes: field \"event_seq\": above the limit")
        XCTAssertEqual(letter.string(0, 1), "12319:12319-7")
        XCTAssertEqual(letter.string(0, 2), "{trace}", "its original headers kept for a redrive")
        let queued = try OutboxQueue.oldest(10, connection: db).map(\.message)
        XCTAssertEqual(queued.map(\.id), ["dlq:hotline.12319.events:1:77"])
        XCTAssertEqual(queued.first?.value, Array("{}".utf8))
    }
}
