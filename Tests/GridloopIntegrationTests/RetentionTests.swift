import Foundation
import GridloopPostgres
import XCTest

/// Retention of personal data (docs/OPERATIONS.md): `gridloopd purge`, and the daemon's daily
/// run of it on the group's lease holder.
extension SLAIntegrationTests {
    /// Old dead letters lose their bytes (their reason, coordinates, length and SHA-256 stay,
    /// `dlq list` shows them, `dlq retry` refuses them); with `retention.closedCases` set, old
    /// closed cases go with their events, clocks, decisions and scorecard rows, and nothing else
    /// does; a dry run changes nothing; the daemon applies the same on its own.
    func testPurgeRedactsOldDeadLettersAndDeletesOldClosedCasesOnly() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("retention")
        let broker = try TestBroker(binDir: binDir, topics: TestBroker.gridloopTopics)
        var env = DaemonHarness.environment(broker: broker, database: database)
        try DaemonHarness.migrate(binDir, env)
        let feed12345 = try TestEnvironment.feedLines(TestEnvironment.fixture("12345-dirty.kafka"))
        let feed12319 = try TestEnvironment.feedLines(TestEnvironment.fixture("12319-dirty.kafka"))
        var daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "retention")
        try DaemonHarness.produce(feed12345, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try DaemonHarness.produce(feed12319, topic: IntakeIntegrationTests.t12319, brokers: broker.bootstrap)
        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: feed12345.count + feed12319.count, daemon: daemon)
        XCTAssertEqual(daemon.terminate(), 0)

        func count(_ sql: String) throws -> Int { try XCTUnwrap(db.query(sql).int(0, 0)) }
        let letters = try count("SELECT count(*) FROM dead_letters")
        let closed = try count("SELECT count(*) FROM cases WHERE status IN ('CLOSED', 'WITHDRAWN')")
        let all = try count("SELECT count(*) FROM cases")
        XCTAssertGreaterThan(letters, 2, "the dirty feeds dead-letter messages")
        XCTAssertGreaterThan(closed, 1, "the feeds close cases")
        let digests = try db.query("SELECT id, encode(sha256(msg_value), 'hex'), length(msg_value) FROM dead_letters ORDER BY id")
        // All dead letters but the newest are 31 days old; all closed cases but one were closed 400 days ago.
        try db.execute(
            "UPDATE dead_letters SET created_at = now() - interval '31 days' WHERE id < (SELECT max(id) FROM dead_letters)")
        try db.execute(
            """
            UPDATE cases SET closed_at = now() - interval '400 days' WHERE status IN ('CLOSED', 'WITHDRAWN')
            AND case_id > (SELECT min(case_id) FROM cases WHERE status IN ('CLOSED', 'WITHDRAWN'))
            """)
        let doomed = try db.query(
            "SELECT case_id FROM cases WHERE closed_at < now() - interval '365 days' ORDER BY case_id")
        let doomedIds = (0..<doomed.count).map { doomed.string($0, 0)! }
        XCTAssertEqual(doomedIds.count, closed - 1)
        env["GRIDLOOP_RETENTION_CLOSED_CASES"] = "365d"

        let dry = try XCTUnwrap(try gridloopdJSON(binDir, ["purge", "--dry-run"], env) as? [String: Any])
        XCTAssertEqual((dry["deadLetters"] as? [String: Any])?["redacted"] as? Int, letters - 1)
        XCTAssertEqual((dry["closedCases"] as? [String: Any])?["cases"] as? Int, closed - 1)
        XCTAssertEqual(
            try count("SELECT count(*) FROM dead_letters WHERE redacted_at IS NOT NULL"), 0, "a dry run changes nothing")
        XCTAssertEqual(try count("SELECT count(*) FROM cases"), all, "a dry run changes nothing")

        let done = try XCTUnwrap(try gridloopdJSON(binDir, ["purge"], env) as? [String: Any])
        XCTAssertEqual((done["deadLetters"] as? [String: Any])?["redacted"] as? Int, letters - 1)
        let deleted = try XCTUnwrap(done["closedCases"] as? [String: Any])
        XCTAssertEqual(deleted["cases"] as? Int, closed - 1)
        XCTAssertGreaterThan(deleted["events"] as? Int ?? 0, closed - 1)
        XCTAssertTrue((deleted["reportsLack"] as? String ?? "").contains("no longer count the cases closed then"))

        // The bytes are gone, what identifies them stays.
        XCTAssertEqual(try count("SELECT count(*) FROM dead_letters"), letters, "no dead letter is deleted")
        XCTAssertEqual(
            try count("SELECT count(*) FROM dead_letters WHERE redacted_at IS NOT NULL AND length(msg_value) = 0"), letters - 1)
        let list = try XCTUnwrap(try gridloopdJSON(binDir, ["dlq", "list", "--limit", "100000"], env) as? [[String: Any]])
        var redactedId: Int?
        for i in 0..<digests.count {
            let id = Int(digests.int64(i, 0)!)
            let row = try XCTUnwrap(list.first { $0["id"] as? Int == id })
            XCTAssertEqual(row["bytes"] as? Int, digests.int(i, 2), "the original's length")
            XCTAssertNotNil(row["reason"] as? String)
            if i < digests.count - 1 {
                XCTAssertEqual(row["sha256"] as? String, digests.string(i, 1), "the original's SHA-256")
                XCTAssertTrue(row["redactedAt"] is String)
                redactedId = id
            } else {
                XCTAssertTrue(row["redactedAt"] is NSNull, "the newest keeps its bytes")
            }
        }
        let retry = try gridloopd(binDir, ["dlq", "retry", String(try XCTUnwrap(redactedId))], env)
        XCTAssertEqual(retry.status, 1)
        XCTAssertTrue(retry.err.contains("its message was redacted at") && retry.err.contains("nothing published"), retry.err)

        // The old closed cases are gone with everything of theirs; the rest is untouched.
        XCTAssertEqual(try count("SELECT count(*) FROM cases"), all - doomedIds.count)
        for table in ["cases", "case_events", "case_clocks", "sla_decisions", "scorecard_handlings", "scorecard_dirty"] {
            let left = try db.query(
                "SELECT count(*) FROM \(table) WHERE case_id = ANY($1::text[])", [PostgresArray.text(doomedIds)])
            XCTAssertEqual(left.int(0, 0), 0, "\(table) keeps nothing of the deleted cases")
        }
        XCTAssertEqual(
            try count("SELECT count(*) FROM case_events e WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = e.case_id)"),
            0)

        let again = try XCTUnwrap(try gridloopdJSON(binDir, ["purge"], env) as? [String: Any])
        XCTAssertEqual((again["deadLetters"] as? [String: Any])?["redacted"] as? Int, 0, "a second purge finds nothing")
        XCTAssertEqual((again["closedCases"] as? [String: Any])?["cases"] as? Int, 0)

        // The daemon does the same on its own, once per group, at its lease's first round.
        try db.execute("UPDATE dead_letters SET created_at = now() - interval '31 days'")
        daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "retention-daemon")
        defer { daemon.terminate() }
        try eventually("the daemon redacts the last dead letter") {
            XCTAssertTrue(daemon.isRunning, daemon.log)
            return try count("SELECT count(*) FROM dead_letters WHERE redacted_at IS NULL") == 0
        }
        try eventually("and says so") { daemon.log.contains("retention applied") }
        XCTAssertTrue(daemon.log.contains("dead_letters_redacted=1"), daemon.log)
    }
}
