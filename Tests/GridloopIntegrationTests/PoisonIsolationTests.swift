import Foundation
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// A message that PostgreSQL refuses for its data must not stop the intake: the daemon finds it
/// (the batch split until one message is left), dead-letters it with the database's error as the
/// reason, and commits everything else.
final class PoisonIsolationTests: XCTestCase {
    func testMessageRefusedByTheDatabaseIsDeadLetteredAndTheRestApplied() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("intake_poison")
        let broker = try TestBroker(
            binDir: binDir,
            topics: TestBroker.gridloopTopics)
        let env = DaemonHarness.environment(broker: broker, database: database)
        try DaemonHarness.migrate(binDir, env)

        let feed12345 = try TestEnvironment.feedLines(TestEnvironment.fixture("12345-sample.kafka"))
        let feed12319 = try TestEnvironment.feedLines(TestEnvironment.fixture("12319-sample.kafka"))
        let expected = FixtureOracle(feed12345: feed12345, feed12319: feed12319)
        // The last message of the 12345 feed: no later message depends on it. A constraint the
        // decoder knows nothing of stands for any refusal caused by data (class 22, 23 or 54).
        let last = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(feed12345.last!.value)) as? [String: Any])
        let poison = try XCTUnwrap(last["msgId"] as? String)
        let db = try PostgresConnection(database)
        try db.execute("ALTER TABLE case_events ADD CONSTRAINT test_poison CHECK (event_key <> '\(poison)')")

        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "gridloopd")
        let port = try DaemonHarness.httpPort(daemon)
        try DaemonHarness.produce(feed12345, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try DaemonHarness.produce(feed12319, topic: IntakeIntegrationTests.t12319, brokers: broker.bootstrap)
        try DaemonHarness.waitUntilConsumed(db, total: feed12345.count + feed12319.count, daemon: daemon)

        let counts = try db.query(
            """
            SELECT (SELECT count(*) FROM case_events), (SELECT count(DISTINCT event_key) FROM case_events),
                   (SELECT count(*) FROM dead_letters)
            """)
        XCTAssertEqual(counts.int(0, 0), expected.appliedEvents - 1, "every other event applied")
        XCTAssertEqual(counts.int(0, 1), expected.appliedEvents - 1, "and each exactly once")
        XCTAssertEqual(counts.int(0, 2), expected.damaged + expected.orphans + 1, "the refused message is a dead letter")
        let letter = try db.query(
            """
            SELECT reason, convert_from(msg_value, 'UTF8') FROM dead_letters WHERE reason LIKE 'refused by the database%'
            """)
        XCTAssertEqual(letter.count, 1)
        if letter.count == 1 {
            XCTAssertTrue(
                letter.string(0, 0)!.contains("test_poison"), "the reason is the database's error: \(letter.string(0, 0)!)")
            XCTAssertTrue(letter.string(0, 0)!.contains("SQLSTATE 23514"), letter.string(0, 0)!)
            XCTAssertTrue(letter.string(0, 1)!.contains(poison), "the original bytes are kept")
        }
        let metrics = try PrometheusText(try XCTUnwrap(httpGet(port: port, "/metrics")?.body))
        XCTAssertEqual(metrics.sum("gridloop_intake_isolated_total"), 1)
        XCTAssertTrue(daemon.log.contains("message isolated"), "the isolation is logged")
        XCTAssertTrue(daemon.isRunning)
        XCTAssertEqual(daemon.terminate(), 0)
    }
}
