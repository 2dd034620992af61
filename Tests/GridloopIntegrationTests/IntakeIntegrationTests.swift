import Foundation
import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// Both dirty fixture feeds through a running `gridloopd`, with a real PostgreSQL and the
/// development broker: every valid event applied exactly once, every damaged message dead-lettered.
final class IntakeIntegrationTests: XCTestCase {
    static let t12345 = "hotline.12345.workorders"
    static let t12319 = "hotline.12319.cases"
    static let dlq = "gridloop.intake.dlq"

    func testDirtyFixturesAppliedOnceAndDamageDeadLettered() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("intake_dirty")
        let broker = try TestBroker(
            binDir: binDir,
            topics: [
                Self.t12345, Self.t12319, Self.dlq, "gridloop.escalations", "gridloop.supervision", "gridloop.outcomes",
                "gridloop.reports",
            ])
        let env = DaemonHarness.environment(broker: broker, database: database)
        try DaemonHarness.migrate(binDir, env)

        let feed12345 = try TestEnvironment.feedLines(TestEnvironment.fixture("12345-dirty.kafka"))
        let feed12319 = try TestEnvironment.feedLines(TestEnvironment.fixture("12319-dirty.kafka"))
        let expected = FixtureOracle(feed12345: feed12345, feed12319: feed12319)

        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "gridloopd")
        // /metrics before the feed: valid Prometheus text, nothing counted yet.
        let port = try DaemonHarness.httpPort(daemon)
        let before = try PrometheusText(try XCTUnwrap(httpGet(port: port, "/metrics")?.body))
        XCTAssertEqual(before.sum("gridloop_intake_messages_total"), 0)
        XCTAssertEqual(httpGet(port: port, "/healthz")?.status, 200)
        try DaemonHarness.produce(feed12345, topic: Self.t12345, brokers: broker.bootstrap)
        try DaemonHarness.produce(feed12319, topic: Self.t12319, brokers: broker.bootstrap)

        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: feed12345.count + feed12319.count, daemon: daemon)

        // The counters moved with the feed, and agree with the independent count.
        let after = try PrometheusText(try XCTUnwrap(httpGet(port: port, "/metrics")?.body))
        XCTAssertEqual(after.types["gridloop_intake_messages_total"], "counter")
        XCTAssertEqual(Int(after.sum("gridloop_intake_messages_total", ["outcome": "applied"])), expected.appliedEvents)
        XCTAssertEqual(Int(after.sum("gridloop_dead_letters_total")), expected.damaged + expected.orphans)
        XCTAssertEqual(
            Int(after.sum("gridloop_outbox_published_total", ["topic": Self.dlq])), expected.damaged + expected.orphans)
        XCTAssertGreaterThan(after.sum("gridloop_intake_messages_total", ["source": "12345", "outcome": "applied"]), 0)
        XCTAssertGreaterThan(after.sum("gridloop_intake_messages_total", ["source": "12319", "outcome": "applied"]), 0)
        XCTAssertGreaterThan(after.sum("gridloop_batch_messages_count"), 0)
        XCTAssertEqual(after.sum("gridloop_consumer_lag_messages"), 0, "caught up")
        XCTAssertEqual(httpGet(port: port, "/readyz")?.status, 200)

        XCTAssertEqual(daemon.terminate(), 0, "SIGTERM exits 0")

        let counts = try db.query(
            """
            SELECT (SELECT count(*) FROM case_events), (SELECT count(DISTINCT event_key) FROM case_events),
                   (SELECT count(*) FROM dead_letters), (SELECT count(*) FROM cases),
                   (SELECT count(*) FROM dead_letters WHERE reason = '')
            """)
        XCTAssertEqual(counts.int(0, 0), expected.appliedEvents, "every valid event applied")
        XCTAssertEqual(counts.int(0, 1), expected.appliedEvents, "and each exactly once")
        XCTAssertEqual(counts.int(0, 2), expected.damaged + expected.orphans, "every damaged or orphan message dead-lettered")
        XCTAssertEqual(counts.int(0, 3), expected.cases)
        XCTAssertEqual(counts.int(0, 4), 0, "every dead letter has a reason")

        // The dead-letter topic holds one message per dead letter, with its original bytes and reason.
        let published = try consumeAll(topic: Self.dlq, brokers: broker.bootstrap, expected: counts.int(0, 2)!)
        XCTAssertEqual(Set(published.keys).count, counts.int(0, 2)!)
        let rows = try db.query("SELECT topic, partition, \"offset\", reason, msg_value FROM dead_letters")
        for i in 0..<rows.count {
            let id = "dlq:\(rows.string(i, 0)!):\(rows.string(i, 1)!):\(rows.string(i, 2)!)"
            guard let m = published[id] else {
                XCTFail("dead letter \(id) not on the topic")
                continue
            }
            XCTAssertEqual(m.value, rows.bytes(i, 4)!, "original bytes kept")
            XCTAssertEqual(m.headers["gridloop-reason"], rows.string(i, 3))
            XCTAssertEqual(m.headers["gridloop-source-topic"], rows.string(i, 0))
        }

        // No personal data in the daemon's log (at debug level), nor in any event it emitted.
        let log = daemon.log
        XCTAssertGreaterThan(expected.personalData.count, 100, "the fixtures' names, phones, appeals and addresses")
        for secret in expected.personalData where log.contains(secret) {
            XCTFail("daemon log contains personal data from the fixtures")
            break
        }
        // Only what the relay has published (no longer in the outbox): a clock may fire just
        // before SIGTERM, and its event stays in the outbox for the next start (the relay
        // publishes at least once, not before it stops).
        let outbound = try db.query(
            """
            SELECT d.topic, count(*) FROM sla_decisions d WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = d.id)
            GROUP BY d.topic
            """)
        XCTAssertGreaterThan(outbound.count, 0, "the fixtures' old orders went overdue: events were emitted")
        for i in 0..<outbound.count {
            let events = try consumeAll(topic: outbound.string(i, 0)!, brokers: broker.bootstrap, expected: outbound.int(i, 1)!)
            XCTAssertGreaterThanOrEqual(events.count, outbound.int(i, 1)!, "every event marked sent is on its topic")
            for (id, e) in events {
                let text = String(decoding: e.value, as: UTF8.self) + e.headers.values.joined()
                if let secret = expected.personalData.first(where: { text.contains($0) }) {
                    XCTFail("event \(id) contains personal data (\(secret.count) characters)")
                    break
                }
            }
        }
    }

    struct Published {
        var value: [UInt8]
        var headers: [String: String]
    }

    func consumeAll(topic: String, brokers: String, expected: Int) throws -> [String: Published] {
        final class Handler: KafkaRebalanceHandler, @unchecked Sendable {
            func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] { [:] }
            func revoked(_ partitions: [TopicPartition]) {}
        }
        let consumer = try KafkaConsumer(
            configuration: ["bootstrap.servers": brokers, "group.id": "test-\(UUID().uuidString)"],
            topics: [topic], rebalanceHandler: Handler(), errorHandler: { _ in })
        defer { consumer.close() }
        var out: [String: Published] = [:]
        try eventually("\(expected) messages on \(topic)", attempts: 600) {
            let messages = try consumer.poll(maxMessages: 1000, timeout: .milliseconds(100))
            EventDump.record(messages)
            for m in messages {
                var headers: [String: String] = [:]
                for h in m.headers { headers[h.name] = h.value.map { String(decoding: $0, as: UTF8.self) } }
                out[headers["gridloop-id"] ?? "?"] = Published(value: m.value, headers: headers)
            }
            return out.count >= expected
        }
        return out
    }
}
