import Foundation
import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// Several daemons in one consumer group share the partitions; when one dies the others take
/// its partitions over from the offsets in the database: every event is still applied once.
final class ConsumerGroupTests: XCTestCase {
    func testTwoDaemonsAndATakeOverApplyEveryEventOnce() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("intake_group")
        let broker = try TestBroker(
            binDir: binDir, partitions: 6,
            topics: TestBroker.gridloopTopics)
        let env = DaemonHarness.environment(broker: broker, database: database)
        try DaemonHarness.migrate(binDir, env)
        let feed12345 = try TestEnvironment.feedLines(TestEnvironment.fixture("12345-dirty.kafka"))
        let feed12319 = try TestEnvironment.feedLines(TestEnvironment.fixture("12319-dirty.kafka"))
        let expected = FixtureOracle(feed12345: feed12345, feed12319: feed12319)

        let first = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "group-a")
        let second = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "group-b")
        let half = feed12345.count / 2
        try DaemonHarness.produce(Array(feed12345[..<half]), topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try DaemonHarness.produce(feed12319, topic: IntakeIntegrationTests.t12319, brokers: broker.bootstrap)
        // Both members must have had partitions before one of them dies.
        try eventually("both daemons assigned partitions") {
            first.log.contains("partitions assigned") && second.log.contains("partitions assigned")
        }
        second.kill9()
        try DaemonHarness.produce(Array(feed12345[half...]), topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)

        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: feed12345.count + feed12319.count, daemon: first)
        // The group's committed offsets follow the database's (for the Kafka team's lag tools),
        // the killed member's partitions included, once the survivor has committed them.
        let stored = try db.query("SELECT topic, partition, next_offset FROM consumer_offsets WHERE next_offset >= 0")
        var expectedOffsets: [TopicPartition: Int64] = [:]
        for row in 0..<stored.count {
            expectedOffsets[TopicPartition(topic: stored.string(row, 0)!, partition: Int32(stored.int(row, 1)!))] =
                stored.int64(row, 2)!
        }
        XCTAssertEqual(expectedOffsets.values.reduce(0, +), Int64(feed12345.count + feed12319.count))
        let viewer = try KafkaConsumer(
            configuration: ["bootstrap.servers": broker.bootstrap, "group.id": "gridloop"], reading: [:], errorHandler: { _ in })
        var committed: [TopicPartition: Int64] = [:]
        try eventually("the group's committed offsets equal the stored ones (\(committed) vs \(expectedOffsets))") {
            committed = try viewer.committed(Array(expectedOffsets.keys))
            return committed == expectedOffsets
        }
        XCTAssertEqual(first.terminate(), 0)
        let r = try db.query(
            "SELECT (SELECT count(*) FROM case_events), (SELECT count(*) FROM dead_letters), (SELECT count(*) FROM cases)")
        XCTAssertEqual(r.int(0, 0), expected.appliedEvents)
        XCTAssertEqual(r.int(0, 1), expected.damaged + expected.orphans)
        XCTAssertEqual(r.int(0, 2), expected.cases)
    }
}

/// A database read again from the start under another consumer group (a renamed
/// `kafka.consumerGroup`, a restore started under a new name): every message comes again, the
/// applied ones are recognised as repeats, and those dead-lettered or skipped already are not
/// recorded twice; before, the second dead letter at the same source offset was refused by its
/// unique key, and so was its isolation, and the intake stopped there for ever.
final class RenamedGroupTests: XCTestCase {
    func testASecondGroupReadsTheSameFeedsAgainWithoutRecordingAnythingTwice() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("renamed_group")
        let broker = try TestBroker(binDir: binDir, partitions: 2, topics: TestBroker.gridloopTopics)
        var env = DaemonHarness.environment(broker: broker, database: database, group: "first")
        try DaemonHarness.migrate(binDir, env)
        let feed12345 = try TestEnvironment.feedLines(TestEnvironment.fixture("12345-dirty.kafka"))
        let feed12319 = try TestEnvironment.feedLines(TestEnvironment.fixture("12319-dirty.kafka"))
        try DaemonHarness.produce(feed12345, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try DaemonHarness.produce(feed12319, topic: IntakeIntegrationTests.t12319, brokers: broker.bootstrap)
        let total = feed12345.count + feed12319.count
        let db = try PostgresConnection(database)
        func state() throws -> [Int] {
            let r = try db.query(
                """
                SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_events), (SELECT count(*) FROM dead_letters),
                       (SELECT count(*) FROM skipped_messages), (SELECT count(*) FROM sla_decisions)
                """)
            return (0..<5).map { r.int(0, $0)! }
        }
        let first = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "group-first")
        try DaemonHarness.waitUntilConsumed(db, total: total, daemon: first)
        XCTAssertEqual(first.terminate(), 0)
        let before = try state()
        XCTAssertGreaterThan(before[2], 0, "the dirty feeds have dead letters")

        env["GRIDLOOP_CONSUMER_GROUP"] = "second"
        let second = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "group-second")
        try eventually("the second group has read every message again", attempts: 3000) {
            XCTAssertTrue(second.isRunning, second.log)
            let r = try db.query(
                "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE consumer_group = 'second' AND next_offset >= 0")
            return r.int(0, 0)! >= total
        }
        XCTAssertEqual(second.terminate(), 0)
        XCTAssertFalse(second.log.contains("intake interrupted"), second.log)
        let after = try state()
        XCTAssertEqual(after[0], before[0], "cases")
        XCTAssertEqual(after[1], before[1], "case events")
        XCTAssertEqual(after[2], before[2], "dead letters")
        // A 12319 event older than a gap its case accepted is a resend the second time: skipped
        // (recorded once each), not applied.
        XCTAssertGreaterThanOrEqual(after[3], before[3], "skipped messages")
    }
}

/// More instances than partitions: the ones the group gives no partition stand by, and tell
/// systemd they are ready (or `Type=notify` with `TimeoutStartSec` would kill and restart them
/// for ever) and keep sending the watchdog; `/readyz` and `STATUS=` say which role each has.
final class StandbyReadinessTests: XCTestCase {
    func testThreeInstancesOnTwoPartitionsAllSendReadyAndTheStandbysSayWhatTheyAre() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("standby_ready")
        // One partition per intake topic: two partitions for three instances.
        let broker = try TestBroker(binDir: binDir, partitions: 1, topics: TestBroker.gridloopTopics)
        var env = DaemonHarness.environment(broker: broker, database: database)
        try DaemonHarness.migrate(binDir, env)
        var listeners: [NotifyListener] = []
        var daemons: [ChildProcess] = []
        for i in 0..<3 {
            let listener = try NotifyListener()
            env["NOTIFY_SOCKET"] = listener.path
            env["WATCHDOG_USEC"] = "2000000"  // WATCHDOG=1 every second
            listeners.append(listener)
            daemons.append(try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "standby-\(i)"))
        }
        defer { for d in daemons where d.isRunning { _ = d.terminate() } }
        try eventually("three READY=1", attempts: 600) {
            for d in daemons { XCTAssertTrue(d.isRunning, d.log) }
            return listeners.allSatisfy { $0.messages.contains("READY=1") }
        }
        // Then each keeps the watchdog going, standby or not.
        let counts = listeners.map { $0.messages.filter { $0 == "WATCHDOG=1" }.count }
        try eventually("three more WATCHDOG=1 from each") {
            zip(listeners, counts).allSatisfy { l, n in l.messages.filter { $0 == "WATCHDOG=1" }.count >= n + 3 }
        }
        // Roles: the range assignor gives both partitions to one member; the two others stand by.
        var roles: [String] = []
        try eventually("the roles settle: one active, two standbys") {
            roles = try daemons.map { d in
                let answer = httpGet(port: try DaemonHarness.httpPort(d), "/readyz")
                XCTAssertEqual(answer?.status, 200, answer?.body ?? "no answer")
                return answer?.body ?? ""
            }
            return roles.filter { $0.hasPrefix("ready: active, 2 partitions") }.count == 1
                && roles.filter { $0.hasPrefix("ready: standby") }.count == 2
        }
        // Metrics: every instance says its build and how many partitions it holds (2 in all).
        var partitions = 0.0
        for d in daemons {
            let metrics = try PrometheusText(try XCTUnwrap(httpGet(port: try DaemonHarness.httpPort(d), "/metrics")?.body))
            XCTAssertEqual(metrics.sum("gridloop_build_info"), 1)
            XCTAssertEqual(metrics.sum("gridloop_ready"), 1)
            partitions += metrics.sum("gridloop_intake_partitions_assigned")
        }
        XCTAssertEqual(partitions, 2)
        for (l, d) in zip(listeners, daemons) {
            let status = l.messages.last { $0.hasPrefix("STATUS=") } ?? ""
            XCTAssertTrue(status.contains("active, 2 partitions") || status.contains("standby"), status)
            XCTAssertTrue(d.log.contains("<5>ready "), d.log)
        }
    }
}
