import Foundation
import GridloopPostgres
import XCTest

/// Every fault of issue 14 in one run, with no manual step: every broker down for 20 s,
/// PostgreSQL crashed (`-m immediate`) and restarted, kill -9 of the daemon, and hostile
/// messages mixed into both feeds. At the end every valid message is applied exactly once and
/// every other one is a dead letter.
final class FaultsTogetherTests: XCTestCase {
    func testBrokersDownDatabaseCrashKillNineAndHostileInputLoseNothing() throws {
        let (_, binDir) = try TestEnvironment.require()
        let env = ProcessInfo.processInfo.environment
        guard let stopDB = env["POSTGRES_STOP_COMMAND"], let startDB = env["POSTGRES_START_COMMAND"] else {
            throw XCTSkip("needs POSTGRES_STOP_COMMAND and POSTGRES_START_COMMAND from scripts/test.sh")
        }
        let crashDB = stopDB.replacingOccurrences(of: "-m fast", with: "-m immediate")
        let database = try TestEnvironment.createDatabase("faults_together")
        let broker = try TestBroker(
            binDir: binDir,
            topics: TestBroker.gridloopTopics)
        var daemonEnv = DaemonHarness.environment(broker: broker, database: database, hold: "5s")
        daemonEnv["GRIDLOOP_SLA_ENABLED"] = "false"  // counts of history only: see CrashRecoveryTests
        try DaemonHarness.migrate(binDir, daemonEnv)

        let clean12345 = try TestEnvironment.feedLines(TestEnvironment.fixture("12345-dirty.kafka"))
        let clean12319 = try TestEnvironment.feedLines(TestEnvironment.fixture("12319-dirty.kafka"))
        let expected = FixtureOracle(feed12345: clean12345, feed12319: clean12319)
        let hostile12345 = try HostileCorpus.load("12345").map { ($0.key, $0.value) }
        let hostile12319 = try HostileCorpus.load("12319").map { ($0.key, $0.value) }
        XCTAssertGreaterThan(hostile12345.count + hostile12319.count, 20, "the hostile corpus is there")
        // Hostile messages spread evenly between the valid ones.
        let feed12345 = HostileCorpus.interleave(clean12345, hostile12345)
        let feed12319 = HostileCorpus.interleave(clean12319, hostile12319)
        let total = feed12345.count + feed12319.count
        func part(_ feed: [(key: [UInt8]?, value: [UInt8])], _ i: Int) -> [(key: [UInt8]?, value: [UInt8])] {
            let n = (feed.count + 3) / 4
            return Array(feed[min(feed.count, i * n)..<min(feed.count, (i + 1) * n)])
        }
        func produce(_ i: Int) throws {
            try DaemonHarness.produce(part(feed12345, i), topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
            try DaemonHarness.produce(part(feed12319, i), topic: IntakeIntegrationTests.t12319, brokers: broker.bootstrap)
        }
        let db = try PostgresConnection(database)
        func committed() throws -> Int {
            try db.query("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE next_offset >= 0").int(0, 0)!
        }

        var daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: daemonEnv, label: "faults")
        try produce(0)
        try eventually("the daemon is applying") { try committed() > 0 }

        // 1. Every broker down for 20 s.
        XCTAssertEqual(kill(broker.child.process.processIdentifier, SIGUSR1), 0)
        var brokersDown = true
        defer { if brokersDown { kill(broker.child.process.processIdentifier, SIGUSR2) } }
        try eventually("the broker says its brokers are down") { broker.child.log.contains("brokers down") }
        sleep(20)
        XCTAssertTrue(daemon.isRunning, "the daemon rides out the brokers' outage")
        XCTAssertEqual(kill(broker.child.process.processIdentifier, SIGUSR2), 0)
        brokersDown = false
        try produce(1)

        // 2. PostgreSQL crashes while a part of the feed arrives, and comes back.
        XCTAssertEqual(shell(crashDB), 0, "crash PostgreSQL")
        var databaseDown = true
        defer { if databaseDown { _ = shell(startDB) } }
        try produce(2)
        try eventually("the daemon reports the outage") { daemon.log.contains("retrying in") }
        XCTAssertTrue(daemon.isRunning, "the daemon rides out the database's crash")
        XCTAssertEqual(shell(startDB), 0, "start PostgreSQL again")
        databaseDown = false

        // 3. kill -9 while the daemon catches up, and a new start.
        let db2 = try PostgresConnection(database)
        let before = try db2.query("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE next_offset >= 0").int(0, 0)!
        try eventually("the daemon is applying again") {
            try db2.query("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE next_offset >= 0").int(0, 0)! > before
        }
        daemon.kill9()
        daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: daemonEnv, label: "faults-again")
        try produce(3)

        try DaemonHarness.waitUntilConsumed(db2, total: total, daemon: daemon)
        XCTAssertEqual(daemon.terminate(), 0)
        let r = try db2.query(
            """
            SELECT (SELECT count(*) FROM case_events), (SELECT count(DISTINCT event_key) FROM case_events),
                   (SELECT count(*) FROM dead_letters), (SELECT count(*) FROM dead_letters WHERE reason = '')
            """)
        XCTAssertEqual(r.int(0, 0), expected.appliedEvents, "every valid message applied")
        XCTAssertEqual(r.int(0, 1), expected.appliedEvents, "and each once")
        XCTAssertEqual(
            r.int(0, 2), expected.damaged + expected.orphans + hostile12345.count + hostile12319.count,
            "every other message one dead letter")
        XCTAssertEqual(r.int(0, 3), 0, "each with a reason")
    }
}
