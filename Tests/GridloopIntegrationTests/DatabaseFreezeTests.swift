import Foundation
import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// A database that stops answering without closing anything (every PostgreSQL process frozen
/// with SIGSTOP: sockets open, nothing read or answered) while the intake and the relay are
/// busy: `/readyz` says so instead of hanging on the last answer, the daemon keeps running, and
/// after the server resumes it applies every message once and publishes every event once.
extension OutageTests {
    func testAFrozenDatabaseIsNotReadyAndLosesNothingOnceItResumes() throws {
        let (_, binDir) = try TestEnvironment.require()
        guard let dataDir = ProcessInfo.processInfo.environment["PG_DATA"] else {
            throw XCTSkip("needs PG_DATA (the test cluster's data directory) from scripts/test.sh")
        }
        let database = try TestEnvironment.createDatabase("intake_freeze")
        let broker = try TestBroker(
            binDir: binDir,
            topics: TestBroker.gridloopTopics)
        let daemonEnv = DaemonHarness.environment(broker: broker, database: database)
        try DaemonHarness.migrate(binDir, daemonEnv)
        let feed12345 = try TestEnvironment.feedLines(TestEnvironment.fixture("12345-dirty.kafka"))
        let feed12319 = try TestEnvironment.feedLines(TestEnvironment.fixture("12319-dirty.kafka"))
        let expected = FixtureOracle(feed12345: feed12345, feed12319: feed12319)
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: daemonEnv, label: "freeze")

        try DaemonHarness.produce(feed12345, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try eventually("the daemon is applying") { daemon.log.contains("batch committed") }
        let port = try DaemonHarness.httpPort(daemon)
        try eventually("/readyz says ready") { httpGet(port: port, "/readyz")?.status == 200 }

        // The postmaster first (it can fork no new backend then), then every child of it.
        let pidFile = try String(contentsOfFile: dataDir + "/postmaster.pid", encoding: .utf8)
        let postmaster = try XCTUnwrap(pid_t(pidFile.split(separator: "\n").first ?? ""), "postmaster.pid: \(pidFile)")
        let frozenAt = ContinuousClock.now
        XCTAssertEqual(shell("kill -STOP \(postmaster) && pkill -STOP -P \(postmaster)"), 0, "freeze PostgreSQL")
        // Whatever happens below, the server must run again for the tests that follow.
        var frozen = true
        defer { if frozen { _ = shell("pkill -CONT -P \(postmaster); kill -CONT \(postmaster)") } }

        // While it is frozen, the 12319 feed arrives: the intake has batches to commit, the
        // relay events to publish.
        try DaemonHarness.produce(feed12319, topic: IntakeIntegrationTests.t12319, brokers: broker.bootstrap)
        var notReady = ""
        try eventually("/readyz flips to not ready", attempts: 900) {
            guard let r = httpGet(port: port, "/readyz"), r.status == 503 else { return false }
            notReady = r.body
            return r.body.contains("database")
        }
        XCTAssertTrue(notReady.contains("database"), "/readyz names the database: \(notReady)")
        // Frozen for 30 s in all: six deadlines of the health probe, three connection attempts.
        let left = .seconds(30) - (ContinuousClock.now - frozenAt)
        if left > .zero {
            Thread.sleep(forTimeInterval: Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18)
        }
        XCTAssertEqual(httpGet(port: port, "/readyz")?.status, 503, "still not ready while frozen")
        XCTAssertEqual(httpGet(port: port, "/healthz")?.status, 200, "alive all the same")
        XCTAssertTrue(daemon.isRunning, "the daemon keeps running while its database does not answer")
        XCTAssertEqual(shell("pkill -CONT -P \(postmaster); kill -CONT \(postmaster)"), 0, "resume PostgreSQL")
        frozen = false

        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: feed12345.count + feed12319.count, daemon: daemon)
        try eventually("/readyz ready again") { httpGet(port: port, "/readyz")?.status == 200 }
        XCTAssertEqual(daemon.terminate(), 0)
        let r = try db.query(
            "SELECT (SELECT count(*) FROM case_events), (SELECT count(DISTINCT event_key) FROM case_events), (SELECT count(*) FROM dead_letters)"
        )
        XCTAssertEqual(r.int(0, 0), expected.appliedEvents, "every message applied across the freeze")
        XCTAssertEqual(r.int(0, 1), expected.appliedEvents, "and each once")
        XCTAssertEqual(r.int(0, 2), expected.damaged + expected.orphans)

        // Every event published once: each topic holds exactly the ids the database says were published.
        var published: [String: Set<String>] = [:]
        let letters = try db.query("SELECT topic, partition, \"offset\" FROM dead_letters")
        for i in 0..<letters.count {
            published[IntakeIntegrationTests.dlq, default: []].insert(
                "dlq:\(letters.string(i, 0)!):\(letters.string(i, 1)!):\(letters.string(i, 2)!)")
        }
        let decisions = try db.query(
            "SELECT topic, id FROM sla_decisions d WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = d.id)")
        for i in 0..<decisions.count { published[decisions.string(i, 0)!, default: []].insert(decisions.string(i, 1)!) }
        XCTAssertGreaterThan(decisions.count, 0, "the fixtures' old orders went overdue: events were emitted")
        for (topic, ids) in published {
            let seen = try Self.ids(on: topic, brokers: broker.bootstrap, atLeast: ids.count)
            XCTAssertEqual(seen.count, Set(seen).count, "no event twice on \(topic)")
            XCTAssertEqual(Set(seen), ids, "every published event of \(topic) is there")
        }
        let log = daemon.log
        XCTAssertTrue(log.contains("<3>database fails the health check"), "the freeze is logged as an error")
        XCTAssertTrue(log.contains("database answers the health check again"), "and the resume")
        XCTAssertEqual(KafkaLogDaemonTests.rawKafkaLines(log), [], "no raw librdkafka line on stderr")
    }

    /// The `gridloop-id` of every message on `topic` (4 partitions), in the order read.
    static func ids(on topic: String, brokers: String, atLeast count: Int) throws -> [String] {
        let start = Dictionary(
            uniqueKeysWithValues: (0..<4).map { (TopicPartition(topic: topic, partition: Int32($0)), Int64(0)) })
        let reader = try KafkaConsumer(
            configuration: ["bootstrap.servers": brokers, "group.id": "freeze-reader-\(UUID().uuidString)"],
            reading: start, errorHandler: { _ in })
        defer { reader.close() }
        var seen: [String] = []
        func take(waiting millis: Int) throws {
            let messages = try reader.poll(maxMessages: 1000, timeout: .milliseconds(millis))
            EventDump.record(messages)
            for m in messages {
                seen.append(String(decoding: m.headers.first { $0.name == "gridloop-id" }?.value ?? [], as: UTF8.self))
            }
        }
        try eventually("\(count) messages on \(topic)", attempts: 600) {
            try take(waiting: 100)
            return seen.count >= count
        }
        try take(waiting: 1000)  // and anything more
        return seen
    }
}
