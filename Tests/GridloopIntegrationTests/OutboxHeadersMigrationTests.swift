import GridloopCore
import GridloopPostgres
import GridloopStore
import XCTest

/// Migration 010 moves the outbox's headers from one flattened `text[]` (name, value, ...) to the
/// parallel name and value arrays the relay reads in binary. Rows the previous version queued and
/// had not published yet are published after the upgrade with the headers it would have given them.
final class OutboxHeadersMigrationTests: XCTestCase {
    func testRowsQueuedBeforeTheUpgradeKeepTheirHeaders() throws {
        let db = try PostgresConnection(try TestEnvironment.createDatabase("outbox_headers_upgrade"))
        for m in Migrations.all where m.version < 10 { try db.execute(m.sql, context: "migration \(m.name)") }

        // What version 8 queued: a dead letter with its headers flattened (a reason that PostgreSQL
        // quotes in an array's text form), and a decision stored without headers.
        let source = SourceCoordinates(topic: "hotline.12345.workorder", partition: 2, offset: 41)
        let letterId = DeadLetterMessage.id(source)
        let reason = #"field "acceptTime": not RFC 3339, {x}, a \ and , and "#
        let letter = DeadLetterMessage.headers(id: letterId, reason: reason, source: source)
        let flat = letter.flatMap { [$0.name, String(decoding: $0.value ?? [], as: UTF8.self)] }
        let decisionId = "12345:HF1/a1/sign/overdue"
        try db.query(
            """
            INSERT INTO outbox (id, topic, msg_key, payload, headers) VALUES
                ($1, 'gridloop.deadletter', NULL, '\\x01', $2::text[]),
                ($3, 'gridloop.supervision', convert_to('12345:HF1', 'UTF8'), '\\x7b7d', '{}')
            """, [letterId, PostgresArray.text(flat), decisionId])

        let nine = try XCTUnwrap(Migrations.all.first { $0.version == 10 })
        try db.execute(nine.sql, context: "migration \(nine.name)")

        let queued = try OutboxQueue.oldest(10, connection: db)
        XCTAssertEqual(queued.map(\.id), [letterId, decisionId])
        XCTAssertEqual(queued.first?.headers, letter, "the dead letter's headers, each value as it was")
        XCTAssertEqual(queued.last?.headers, OutboundEvent.headers(id: decisionId), "the decision's, from its id")
        XCTAssertEqual(queued.last?.key, Array("12345:HF1".utf8))
        XCTAssertEqual(queued.last?.value, Array("{}".utf8))
    }
}
