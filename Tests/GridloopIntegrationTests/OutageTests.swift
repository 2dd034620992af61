import Foundation
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// Losing the database: the daemon keeps running, says so in its log, retries with backoff,
/// and when the database returns it carries on where the database says, losing nothing.
final class OutageTests: XCTestCase {
    func testDatabaseOutageIsRiddenOut() throws {
        let (_, binDir) = try TestEnvironment.require()
        let env = ProcessInfo.processInfo.environment
        guard let stopDB = env["POSTGRES_STOP_COMMAND"], let startDB = env["POSTGRES_START_COMMAND"] else {
            throw XCTSkip("needs POSTGRES_STOP_COMMAND and POSTGRES_START_COMMAND from scripts/test.sh")
        }
        let database = try TestEnvironment.createDatabase("intake_outage")
        let broker = try TestBroker(
            binDir: binDir,
            topics: TestBroker.gridloopTopics)
        let daemonEnv = DaemonHarness.environment(broker: broker, database: database)
        try DaemonHarness.migrate(binDir, daemonEnv)
        let feed12345 = try TestEnvironment.feedLines(TestEnvironment.fixture("12345-dirty.kafka"))
        let feed12319 = try TestEnvironment.feedLines(TestEnvironment.fixture("12319-dirty.kafka"))
        let expected = FixtureOracle(feed12345: feed12345, feed12319: feed12319)
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: daemonEnv, label: "outage")

        try DaemonHarness.produce(feed12345, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try eventually("the daemon is applying") { daemon.log.contains("batch committed") }
        let port = try DaemonHarness.httpPort(daemon)
        try eventually("/readyz says ready") { httpGet(port: port, "/readyz")?.status == 200 }
        XCTAssertEqual(shell(stopDB), 0, "stop PostgreSQL")
        // Whatever happens below, the database must be back for the tests that follow.
        var restarted = false
        defer { if !restarted { _ = shell(startDB) } }
        // While the database is away, the 12319 feed arrives; the daemon must not exit.
        try DaemonHarness.produce(feed12319, topic: IntakeIntegrationTests.t12319, brokers: broker.bootstrap)
        try eventually("the daemon reports the outage") { daemon.log.contains("retrying in") }
        var notReady = ""
        try eventually("/readyz flips to not ready") {
            guard let r = httpGet(port: port, "/readyz"), r.status == 503 else { return false }
            notReady = r.body
            return r.body.contains("database")
        }
        XCTAssertTrue(notReady.contains("database"), "/readyz names the database: \(notReady)")
        XCTAssertEqual(httpGet(port: port, "/healthz")?.status, 200, "alive all the same")
        XCTAssertTrue(daemon.isRunning, "the daemon keeps running without its database")
        XCTAssertEqual(shell(startDB), 0, "start PostgreSQL again")
        restarted = true

        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: feed12345.count + feed12319.count, daemon: daemon)
        try eventually("/readyz ready again") { httpGet(port: port, "/readyz")?.status == 200 }
        XCTAssertEqual(daemon.terminate(), 0)
        let r = try db.query("SELECT (SELECT count(*) FROM case_events), (SELECT count(*) FROM dead_letters)")
        XCTAssertEqual(r.int(0, 0), expected.appliedEvents, "nothing lost or applied twice across the outage")
        XCTAssertEqual(r.int(0, 1), expected.damaged + expected.orphans)
    }

    /// A stop that cannot finish within `shutdown.gracePeriod` (here: the daemon's database
    /// sessions frozen with SIGSTOP, so its queries never return) ends with exit status 1 and a
    /// log line saying why, instead of hanging until systemd kills it; the next start applies
    /// what was not committed, nothing lost or applied twice.
    func testAStopThatOutlastsTheGracePeriodExitsOneAndTheNextStartLosesNothing() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("grace_period")
        let broker = try TestBroker(
            binDir: binDir,
            topics: TestBroker.gridloopTopics)
        var daemonEnv = DaemonHarness.environment(broker: broker, database: database)
        daemonEnv["GRIDLOOP_GRACE_PERIOD"] = "2s"
        try DaemonHarness.migrate(binDir, daemonEnv)
        let feed12345 = try TestEnvironment.feedLines(TestEnvironment.fixture("12345-dirty.kafka"))
        let feed12319 = try TestEnvironment.feedLines(TestEnvironment.fixture("12319-dirty.kafka"))
        let expected = FixtureOracle(feed12345: feed12345, feed12319: feed12319)
        let db = try PostgresConnection(database)
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: daemonEnv, label: "grace")
        try DaemonHarness.produce(feed12345, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try eventually("the daemon is applying") { daemon.log.contains("batch committed") }
        // intake, commit, relay, health, scorecard, forecast
        try eventually("the daemon's six sessions are open") {
            try db.query(
                """
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'gridloopd-%'
                """
            ).int(0, 0) == 6
        }
        let sessions = try db.query(
            """
            SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'gridloopd-%'
            """)
        let pids = (0..<sessions.count).compactMap { sessions.int($0, 0) }.map { pid_t($0) }
        for pid in pids { XCTAssertEqual(kill(pid, SIGSTOP), 0, "freeze session \(pid)") }
        var frozen = true
        defer { if frozen { for pid in pids { kill(pid, SIGCONT) } } }
        // The 12319 feed arrives while the sessions are frozen: the intake has a batch to commit.
        try DaemonHarness.produce(feed12319, topic: IntakeIntegrationTests.t12319, brokers: broker.bootstrap)
        usleep(1_500_000)  // the health probe's next query (every second) is stuck too
        kill(daemon.process.processIdentifier, SIGTERM)
        try eventually("the daemon gives up waiting for its workers") { !daemon.isRunning }
        XCTAssertEqual(daemon.terminate(), 1, "a stop that outlasts the grace period exits 1")
        XCTAssertTrue(daemon.log.contains("grace period over"), "and says why: \(daemon.log.suffix(2000))")
        for pid in pids { kill(pid, SIGCONT) }
        frozen = false

        let again = try ChildProcess(binDir + "/gridloopd", ["run"], environment: daemonEnv, label: "grace-again")
        try DaemonHarness.waitUntilConsumed(db, total: feed12345.count + feed12319.count, daemon: again)
        XCTAssertEqual(again.terminate(), 0, "a stop with nothing stuck exits 0")
        let r = try db.query("SELECT (SELECT count(*) FROM case_events), (SELECT count(*) FROM dead_letters)")
        XCTAssertEqual(r.int(0, 0), expected.appliedEvents, "nothing lost or applied twice across the forced exit")
        XCTAssertEqual(r.int(0, 1), expected.damaged + expected.orphans)
    }
}
