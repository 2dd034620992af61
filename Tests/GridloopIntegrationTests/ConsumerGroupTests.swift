import Foundation
import GridloopPostgres
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
        XCTAssertEqual(first.terminate(), 0)
        let r = try db.query(
            "SELECT (SELECT count(*) FROM case_events), (SELECT count(*) FROM dead_letters), (SELECT count(*) FROM cases)")
        XCTAssertEqual(r.int(0, 0), expected.appliedEvents)
        XCTAssertEqual(r.int(0, 1), expected.damaged + expected.orphans)
        XCTAssertEqual(r.int(0, 2), expected.cases)
    }
}
