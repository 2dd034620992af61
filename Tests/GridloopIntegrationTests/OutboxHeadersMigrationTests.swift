import GridloopPostgres
import GridloopStore
import XCTest

@testable import GridloopCore

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
        let reason = #"field "acceptTime": not RFC 3339, {x}, a \ and , and "#
        let letter = OutboxMessage.deadLetter(
            DeadLetter(coordinates: source, key: nil, value: [1], headers: [], reason: reason, caseId: nil),
            topic: "gridloop.deadletter")
        let letterId = letter.id
        let flat = letter.headers.flatMap { [$0.name, String(decoding: $0.value ?? [], as: UTF8.self)] }
        let decisionId = "12345:HF1/a1/sign/overdue"
        try db.query(
            """
            INSERT INTO outbox (id, topic, msg_key, payload, headers) VALUES
                ($1, 'gridloop.deadletter', NULL, '\\x01', $2::text[]),
                ($3, 'gridloop.supervision', convert_to('12345:HF1', 'UTF8'), '\\x7b7d', '{}')
            """, [letterId, PostgresArray.text(flat), decisionId])

        let ten = try XCTUnwrap(Migrations.all.first { $0.version == 10 })
        try db.execute(ten.sql, context: "migration \(ten.name)")

        let queued = try OutboxQueue.oldest(10, connection: db).map(\.message)
        XCTAssertEqual(queued.first, letter, "the dead letter as this version builds it, each header value as it was")
        let decision = SLADecision(id: decisionId, caseId: "12345:HF1", time: 0, kind: .overdue(limit: .sign, deadline: 0))
        XCTAssertEqual(
            queued.last, OutboxMessage.decision(decision, topic: "gridloop.supervision", event: Array("{}".utf8)),
            "the decision's headers, which followed from its id")
    }
}
