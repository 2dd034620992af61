import Foundation
import GridloopKafka
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// The hostile corpus of both platforms, each message end to end through a running daemon
/// (real PostgreSQL, development broker) between valid messages: every hostile message ends as
/// one dead letter whose reason names the problem, every valid message is applied exactly, and
/// the daemon stays alive throughout.
final class HostileInputTests: XCTestCase {
    func testEveryHostileMessageIsOneDeadLetterAndTheValidOnesApply() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("intake_hostile")
        let broker = try TestBroker(
            binDir: binDir,
            topics: TestBroker.gridloopTopics)
        let env = DaemonHarness.environment(broker: broker, database: database)
        try DaemonHarness.migrate(binDir, env)
        let valid12345 = try TestEnvironment.feedLines(TestEnvironment.fixture("12345-sample.kafka"))
        let valid12319 = try TestEnvironment.feedLines(TestEnvironment.fixture("12319-sample.kafka"))
        let expected = FixtureOracle(feed12345: valid12345, feed12319: valid12319)
        let hostile = [
            IntakeIntegrationTests.t12345: try HostileCorpus.load("12345"),
            IntakeIntegrationTests.t12319: try HostileCorpus.load("12319"),
        ]
        XCTAssertGreaterThan(hostile.values.map(\.count).reduce(0, +), 20, "the corpus is there")

        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "hostile")
        let port = try DaemonHarness.httpPort(daemon)
        // Each hostile message between two valid ones, in one ordered stream per topic; where
        // each landed is kept to find its dead letter.
        let producer = try KafkaProducer(configuration: ["bootstrap.servers": broker.bootstrap])
        var landed: [String: HostileCorpus] = [:]  // "topic:partition:offset"
        var total = 0
        for (topic, valid) in [(IntakeIntegrationTests.t12345, valid12345), (IntakeIntegrationTests.t12319, valid12319)] {
            var records: [ProducerRecord] = []
            var which: [Int: HostileCorpus] = [:]
            var v = valid[...]
            for h in hostile[topic]! {
                if let line = v.popFirst() { records.append(ProducerRecord(topic: topic, key: line.key, value: line.value)) }
                var r = ProducerRecord(topic: topic, key: h.key, value: h.value ?? [])
                r.valueIsNull = h.value == nil
                which[records.count] = h
                records.append(r)
            }
            records += v.map { ProducerRecord(topic: topic, key: $0.key, value: $0.value) }
            let results = try producer.send(records, timeout: .seconds(60))
            for (i, result) in results.enumerated() {
                switch result {
                case .success(let at): if let h = which[i] { landed["\(topic):\(at.partition):\(at.offset)"] = h }
                case .failure(let e): XCTFail("produce failed: \(e)")
                }
            }
            total += records.count
            XCTAssertTrue(daemon.isRunning, "alive after the \(topic) feed was published")
        }

        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: total, daemon: daemon)
        XCTAssertEqual(httpGet(port: port, "/healthz")?.status, 200, "alive")
        XCTAssertEqual(httpGet(port: port, "/readyz")?.status, 200, "and ready")

        let counts = try db.query(
            "SELECT (SELECT count(*) FROM case_events), (SELECT count(DISTINCT event_key) FROM case_events)")
        XCTAssertEqual(counts.int(0, 0), expected.appliedEvents, "every valid message applied")
        XCTAssertEqual(counts.int(0, 1), expected.appliedEvents, "each once")
        let letters = try db.query("SELECT topic, partition, \"offset\", reason FROM dead_letters")
        var reasons: [String: [String]] = [:]
        for i in 0..<letters.count {
            reasons["\(letters.string(i, 0)!):\(letters.string(i, 1)!):\(letters.string(i, 2)!)", default: []].append(
                letters.string(i, 3)!)
        }
        XCTAssertEqual(letters.count, expected.damaged + expected.orphans + landed.count, "nothing else dead-lettered")
        for (at, h) in landed.sorted(by: { $0.key < $1.key }) {
            let found = reasons[at] ?? []
            XCTAssertEqual(found.count, 1, "\(h.why): one dead letter at \(at)")
            if let reason = found.first {
                XCTAssertTrue(
                    reason.localizedCaseInsensitiveContains(h.reason), "\(h.why): the reason '\(reason)' names '\(h.reason)'")
                XCTAssertFalse(reason.unicodeScalars.contains { $0.value < 0x20 }, "\(h.why): no control character in the reason")
            }
        }
        XCTAssertTrue(daemon.isRunning)
        XCTAssertEqual(daemon.terminate(), 0)
    }
}
