import Foundation
import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// Messages the broker deleted before the intake applied them (here: more than the development
/// broker keeps of one partition, about 5 MB, published while the daemon is stopped) are a gap
/// that is recorded, logged, counted, shown and reported by /readyz until acknowledged, never a
/// silent jump to the log start.
final class IntakeGapTests: XCTestCase {
    static let topics = [
        IntakeIntegrationTests.t12345, IntakeIntegrationTests.t12319, IntakeIntegrationTests.dlq,
        "gridloop.escalations", "gridloop.supervision", "gridloop.outcomes", "gridloop.reports",
    ]
    let tp = TopicPartition(topic: IntakeIntegrationTests.t12345, partition: 0)

    /// `count` 12345 DISPATCH messages of distinct orders, each about 1 KB (a long appeal text),
    /// numbered from `first`.
    func dispatches(_ first: Int, _ count: Int) throws -> [(key: [UInt8]?, value: [UInt8])] {
        let template = try TestEnvironment.feedLines(TestEnvironment.fixture("12345-sample.kafka"))
            .map { String(decoding: $0.value, as: UTF8.self) }
            .first { $0.contains("\"DISPATCH\"") }!
        let order = try XCTUnwrap(template.range(of: #"HF[0-9]{12}"#, options: .regularExpression).map { String(template[$0]) })
        let msgId = try XCTUnwrap(
            template.range(of: #""msgId": "[^"]+""#, options: .regularExpression).map { String(template[$0]) })
        let content = try XCTUnwrap(
            template.range(of: #""content": "[^"]*""#, options: .regularExpression).map { String(template[$0]) })
        let padding = String(repeating: "路灯不亮。", count: 60)  // 900 bytes of UTF-8
        return (first..<(first + count)).map { n in
            let no = String(format: "GP%012d", n)
            let value = template.replacingOccurrences(of: order, with: no)
                .replacingOccurrences(of: msgId, with: "\"msgId\": \"gap-\(n)\"")
                .replacingOccurrences(of: content, with: "\"content\": \"\(padding)\"")
            return (Array(no.utf8), Array(value.utf8))
        }
    }

    func storedOffset(_ db: PostgresConnection) throws -> Int64 {
        let r = try db.query("SELECT next_offset FROM consumer_offsets WHERE topic = $1 AND partition = 0", [tp.topic])
        return r.count == 0 ? -2 : r.int64(0, 0)!
    }

    func watermarks(_ broker: TestBroker) throws -> (low: Int64, high: Int64) {
        let client = try KafkaProducer(configuration: ["bootstrap.servers": broker.bootstrap])
        let low = try client.offsets([tp], at: KafkaOffset.beginning)[tp]!
        let high = try client.offsets([tp], at: KafkaOffset.end)[tp]!
        return (low, high)
    }

    /// A first run applies `first` messages; with the daemon stopped, 8 MB more go to the same
    /// partition, and the broker deletes the oldest part, including messages never applied.
    /// Returns the database, the stored offset before the loss, and the watermarks after it.
    func loseMessages(_ binDir: String, _ env: [String: String], broker: TestBroker, database: String, first: Int)
        throws -> (db: PostgresConnection, stored: Int64, low: Int64, high: Int64)
    {
        try DaemonHarness.migrate(binDir, env)
        let db = try PostgresConnection(database)
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "gap-first")
        try DaemonHarness.produce(try dispatches(0, first), topic: tp.topic, brokers: broker.bootstrap)
        try eventually("the first \(first) messages committed") { try storedOffset(db) == Int64(first) }
        XCTAssertEqual(daemon.terminate(), 0, daemon.log)
        try DaemonHarness.produce(try dispatches(first, 8000), topic: tp.topic, brokers: broker.bootstrap)
        let (low, high) = try watermarks(broker)
        XCTAssertEqual(high, Int64(first + 8000))
        XCTAssertGreaterThan(low, Int64(first), "the broker deleted messages never applied (log start \(low))")
        XCTAssertLessThan(low, high)
        return (db, Int64(first), low, high)
    }

    func openGaps(_ db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            SELECT id, topic, partition, from_offset, to_offset, messages_lost, consumer_group FROM intake_gaps
            WHERE acknowledged_at IS NULL ORDER BY id
            """)
    }

    func testDeletedMessagesAreARecordedGapThatReadinessReportsUntilAcknowledged() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("intake_gap")
        let broker = try TestBroker(binDir: binDir, partitions: 1, topics: Self.topics)
        var env = DaemonHarness.environment(broker: broker, database: database)
        env["GRIDLOOP_SLA_ENABLED"] = "false"
        let (db, stored, low, high) = try loseMessages(binDir, env, broker: broker, database: database, first: 20)

        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "gap-continue")
        try eventually("every message still on the broker applied") { try storedOffset(db) == high }
        let gaps = try openGaps(db)
        XCTAssertEqual(gaps.count, 1, "exactly one gap")
        let id = try XCTUnwrap(gaps.int64(0, 0))
        XCTAssertEqual(gaps.string(0, 1), tp.topic)
        XCTAssertEqual(gaps.int(0, 2), 0)
        XCTAssertEqual(gaps.int64(0, 3), stored, "from the offset stored before the loss")
        XCTAssertEqual(gaps.int64(0, 4), low, "to the log start")
        XCTAssertEqual(gaps.int64(0, 5), low - stored, "messages lost")
        XCTAssertEqual(gaps.string(0, 6), "gridloop")
        let events = try db.query("SELECT count(*) FROM case_events").int64(0, 0)
        XCTAssertEqual(events, stored + (high - low), "the first run's messages and every message still on the broker")

        let line = try XCTUnwrap(
            daemon.log.split(separator: "\n").first { $0.contains("intake gap") }, daemon.log.suffix(3000).description)
        XCTAssertTrue(line.hasPrefix("<3>"), "logged at error: \(line)")
        for part in ["topic=\(tp.topic)", "partition=0", "from=\(stored)", "to=\(low)", "lost=\(low - stored)", "gap=\(id)"] {
            XCTAssertTrue(line.contains(part), "\(part) in \(line)")
        }

        let port = try DaemonHarness.httpPort(daemon)
        let metrics = try PrometheusText(try XCTUnwrap(httpGet(port: port, "/metrics")?.body))
        XCTAssertEqual(
            metrics.sum("gridloop_intake_gap_messages_total", ["topic": tp.topic, "partition": "0"]),
            Double(low - stored))
        var notReady = ""
        try eventually("/readyz reports the gap") {
            guard let r = httpGet(port: port, "/readyz"), r.status == 503 else { return false }
            notReady = r.body
            return r.body.contains("gap \(id)")
        }
        XCTAssertTrue(notReady.contains("\(low - stored) messages lost"), notReady)

        let status = try gridloopd(binDir, ["status", "--json"], env)
        XCTAssertEqual(status.status, 0, status.err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(status.out.utf8)) as? [String: Any])
        let shown = try XCTUnwrap(json["unacknowledgedGaps"] as? [[String: Any]], status.out)
        XCTAssertEqual(shown.count, 1)
        XCTAssertEqual((shown.first?["id"] as? NSNumber)?.int64Value, id)
        XCTAssertEqual((shown.first?["fromOffset"] as? NSNumber)?.int64Value, stored)
        XCTAssertEqual((shown.first?["toOffset"] as? NSNumber)?.int64Value, low)
        XCTAssertEqual((shown.first?["messagesLost"] as? NSNumber)?.int64Value, low - stored)
        let table = try gridloopd(binDir, ["status"], env)
        XCTAssertTrue(table.out.contains("1 NOT ACKNOWLEDGED"), table.out)

        let ack = try gridloopd(binDir, ["gaps", "ack", "\(id)", "--by", "operator-test"], env)
        XCTAssertEqual(ack.status, 0, ack.err)
        try eventually("/readyz ready once acknowledged") { httpGet(port: port, "/readyz")?.status == 200 }
        let again = try gridloopd(binDir, ["gaps", "ack", "\(id)"], env)
        XCTAssertNotEqual(again.status, 0, "a second acknowledgement is refused")
        XCTAssertTrue(again.err.contains("acknowledged already"), again.err)
        let list = try gridloopd(binDir, ["gaps", "list", "--json"], env)
        XCTAssertEqual(list.status, 0, list.err)
        let listed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(listed.count, 1)
        XCTAssertEqual(listed.first?["acknowledgedBy"] as? String, "operator-test")
        XCTAssertEqual(daemon.terminate(), 0)

        // A restart finds the stored offset at the log start: no second gap.
        let restarted = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "gap-restart")
        let restartPort = try DaemonHarness.httpPort(restarted)
        try eventually("the restarted daemon is ready") { httpGet(port: restartPort, "/readyz")?.status == 200 }
        XCTAssertEqual(restarted.terminate(), 0)
        XCTAssertEqual(try db.query("SELECT count(*) FROM intake_gaps").int(0, 0), 1)
    }

    /// With intake.onOffsetGap: stop the partition is not read until the gap is acknowledged,
    /// then it is, without a restart.
    func testStopLeavesThePartitionUnreadUntilTheGapIsAcknowledged() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("intake_gap_stop")
        let broker = try TestBroker(binDir: binDir, partitions: 1, topics: Self.topics)
        var env = DaemonHarness.environment(broker: broker, database: database)
        env["GRIDLOOP_SLA_ENABLED"] = "false"
        env["GRIDLOOP_ON_OFFSET_GAP"] = "stop"
        let (db, stored, low, high) = try loseMessages(binDir, env, broker: broker, database: database, first: 20)

        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "gap-stop")
        try eventually("the gap recorded") { try openGaps(db).count == 1 }
        let id = try XCTUnwrap(try openGaps(db).int64(0, 0))
        XCTAssertEqual(try openGaps(db).int64(0, 5), low - stored)
        let port = try DaemonHarness.httpPort(daemon)
        try eventually("/readyz reports the gap") {
            httpGet(port: port, "/readyz").map { $0.status == 503 && $0.body.contains("gap \(id)") } ?? false
        }
        XCTAssertTrue(daemon.log.contains("left unread until"), daemon.log.suffix(3000).description)
        // The daemon consumes its other partition meanwhile: a 12319 message is committed.
        let feed12319 = try TestEnvironment.feedLines(TestEnvironment.fixture("12319-sample.kafka"))
        try DaemonHarness.produce(Array(feed12319.prefix(1)), topic: IntakeIntegrationTests.t12319, brokers: broker.bootstrap)
        try eventually("the 12319 message committed") {
            let r = try db.query("SELECT next_offset FROM consumer_offsets WHERE topic = $1", [IntakeIntegrationTests.t12319])
            return r.count == 1 && r.int64(0, 0) == 1
        }
        XCTAssertEqual(try storedOffset(db), low, "moved to the log start with the gap, nothing read after it")
        XCTAssertEqual(
            try db.query("SELECT count(*) FROM case_events WHERE topic = $1", [tp.topic]).int64(0, 0), stored,
            "nothing applied while stopped")

        let ack = try gridloopd(binDir, ["gaps", "ack", "\(id)"], env)
        XCTAssertEqual(ack.status, 0, ack.err)
        try eventually("the partition read once the gap is acknowledged") { try storedOffset(db) == high }
        XCTAssertTrue(daemon.isRunning, "no restart")
        XCTAssertEqual(
            try db.query("SELECT count(*) FROM case_events WHERE topic = $1", [tp.topic]).int64(0, 0), stored + (high - low))
        try eventually("/readyz ready") { httpGet(port: port, "/readyz")?.status == 200 }
        XCTAssertEqual(daemon.terminate(), 0)
        XCTAssertEqual(try db.query("SELECT count(*) FROM intake_gaps").int(0, 0), 1)
    }

    /// A range deleted while the daemon runs is found when the broker refuses the fetch (offset
    /// out of range), not skipped: here the partition waits at the log start for a first gap's
    /// acknowledgement (stop) while 8 MB more arrive; once acknowledged, its fetch is refused,
    /// and a second gap is recorded from where it waited to the new log start.
    func testAFetchRefusedAsOutOfRangeIsASecondGap() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("intake_gap_fetch")
        let broker = try TestBroker(binDir: binDir, partitions: 1, topics: Self.topics)
        var env = DaemonHarness.environment(broker: broker, database: database)
        env["GRIDLOOP_SLA_ENABLED"] = "false"
        env["GRIDLOOP_ON_OFFSET_GAP"] = "stop"
        let (db, stored, low, _) = try loseMessages(binDir, env, broker: broker, database: database, first: 20)

        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "gap-fetch")
        try eventually("the first gap recorded") { try openGaps(db).count == 1 }
        let first = try XCTUnwrap(try openGaps(db).int64(0, 0))
        try DaemonHarness.produce(try dispatches(20 + 8000, 8000), topic: tp.topic, brokers: broker.bootstrap)
        let (low2, high2) = try watermarks(broker)
        XCTAssertGreaterThan(low2, low, "the broker deleted messages the paused partition never read")
        XCTAssertEqual(try gridloopd(binDir, ["gaps", "ack", "\(first)"], env).status, 0)

        try eventually("the second gap recorded when the fetch is refused") {
            try openGaps(db).count == 1 && openGaps(db).int64(0, 0) != first
        }
        let gaps = try openGaps(db)
        let second = try XCTUnwrap(gaps.int64(0, 0))
        XCTAssertEqual(gaps.int64(0, 3), low, "from where the partition waited")
        XCTAssertEqual(gaps.int64(0, 4), low2, "to the new log start")
        XCTAssertEqual(gaps.int64(0, 5), low2 - low)
        XCTAssertEqual(try storedOffset(db), low2)
        XCTAssertEqual(
            try db.query("SELECT count(*) FROM case_events WHERE topic = $1", [tp.topic]).int64(0, 0), stored,
            "nothing applied: stopped again for the second gap")
        let line = try XCTUnwrap(
            daemon.log.split(separator: "\n").first { $0.contains("intake gap") && $0.contains("gap=\(second)") },
            daemon.log.suffix(3000).description)
        XCTAssertTrue(line.hasPrefix("<3>") && line.contains("lost=\(low2 - low)"), "\(line)")

        XCTAssertEqual(try gridloopd(binDir, ["gaps", "ack", "\(second)"], env).status, 0)
        try eventually("the partition read once the second gap is acknowledged") { try storedOffset(db) == high2 }
        XCTAssertEqual(
            try db.query("SELECT count(*) FROM case_events WHERE topic = $1", [tp.topic]).int64(0, 0),
            stored + (high2 - low2))
        let port = try DaemonHarness.httpPort(daemon)
        let metrics = try PrometheusText(try XCTUnwrap(httpGet(port: port, "/metrics")?.body))
        XCTAssertEqual(
            metrics.sum("gridloop_intake_gap_messages_total", ["topic": tp.topic, "partition": "0"]),
            Double(low2 - stored), "both gaps counted")
        XCTAssertEqual(daemon.terminate(), 0)
    }
}
