import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopSettings
import GridloopStore
import Logging
import XCTest

@testable import GridloopPipeline

/// A relay that died between the broker's acknowledgement and its commit left rows in the
/// outbox that are on the topic already. The relay that takes over finds them there and
/// publishes only the rest, so a subscriber sees every event once.
final class RelayTakeOverTests: XCTestCase {
    /// A development broker with the relay's four topics, a migrated database, a relay and a producer.
    func setUpRelay(_ name: String, partitions: Int = 4, batchSize: Int? = nil) throws
        -> (config: GridloopConfig, broker: TestBroker, db: PostgresConnection, relay: OutboxRelay, producer: KafkaProducer)
    {
        let (_, binDir) = try TestEnvironment.require()
        var config = GridloopConfig()
        let t = config.topics
        let broker = try TestBroker(
            binDir: binDir, partitions: partitions,
            topics: [t.deadLetter, t.escalations, t.supervision, t.outcomes, t.reports])
        let database = try TestEnvironment.createDatabase(name)
        let db = try PostgresConnection(database)
        _ = try Migrator.migrate(db)
        config.brokers = broker.bootstrap
        config.databaseURL = database
        if let batchSize { config.relayBatchSize = batchSize }
        let relay = OutboxRelay(config: config, logger: Logger(label: "relay-test"), stop: StopSignal())
        return (config, broker, db, relay, try KafkaProducer(configuration: config.producerConfiguration))
    }

    func testRowsADeadRelayDeliveredAreNotPublishedAgain() throws {
        let (config, broker, db, relay, producer) = try setUpRelay("relay_takeover")
        defer { withExtendedLifetime(broker) {} }  // the broker stops when released
        let topic = config.topics.supervision

        // A relay starts on empty topics: each partition's position is its high watermark.
        XCTAssertEqual(try db.transaction { try relay.takeOver(connection: db, producer: producer) }.found, 0)
        // 100 decisions of 25 cases queued; the relay holding the lock delivers the first 60
        // and dies before its commit, so they stay in the outbox.
        let ids = (0..<100).map { "12345:HF\($0 % 25)/a1/SIGN/n\($0)" }
        let keys = ids.map { String($0.prefix { $0 != "/" }) }
        try db.query(
            """
            INSERT INTO outbox (id, topic, msg_key, payload, msg_header_names, msg_header_values)
            SELECT i, $2, convert_to(k, 'UTF8'), convert_to('{"id":"' || i || '"}', 'UTF8'), '{gridloop-id}',
                   ARRAY[convert_to(i, 'UTF8')]
            FROM unnest($1::text[], $3::text[]) AS v(i, k)
            """, [PostgresArray.text(ids), topic, PostgresArray.text(keys)])
        let dead = (0..<60).map { i in
            ProducerRecord(
                topic: topic, key: Array(keys[i].utf8), value: Array("{\"id\":\"\(ids[i])\"}".utf8),
                headers: [KafkaHeader(name: "gridloop-id", value: Array(ids[i].utf8))])
        }
        for r in try producer.send(dead, timeout: .seconds(30)) {
            if case .failure(let e) = r { throw e }
        }

        // The next relay takes over before its first round, then publishes what is left.
        var caughtUp = false
        var sent = 0
        while case let n = try relay.publishRound(connection: db, producer: producer, caughtUp: &caughtUp), n > 0 {
            sent += n
        }
        XCTAssertTrue(caughtUp)
        XCTAssertEqual(sent, 40, "only the rows that were not on the topic")
        XCTAssertEqual(try db.query("SELECT count(*) FROM outbox").int(0, 0), 0)
        XCTAssertEqual(try db.query("SELECT sum(next_offset) FROM relay_positions WHERE topic = $1", [topic]).int(0, 0), 100)

        // On the topic: every id once.
        let partitions = try producer.partitions(of: [topic])[topic] ?? []
        var props = config.consumerConfiguration
        props["group.id"] = "relay-test-reader"
        let reader = try KafkaConsumer(
            configuration: props,
            reading: Dictionary(uniqueKeysWithValues: partitions.map { (TopicPartition(topic: topic, partition: $0), Int64(0)) }),
            errorHandler: { _ in })
        defer { reader.close() }
        var seen: [String] = []
        func take(waiting millis: Int) throws {
            for m in try reader.poll(maxMessages: 1000, timeout: .milliseconds(millis)) {
                seen.append(String(decoding: m.headers.first { $0.name == "gridloop-id" }?.value ?? [], as: UTF8.self))
            }
        }
        try eventually("100 messages on \(topic) (have \(seen.count))", attempts: 300) {
            try take(waiting: 100)
            return seen.count >= 100
        }
        try take(waiting: 500)  // and anything more
        XCTAssertEqual(seen.sorted(), ids.sorted(), "every event once, none missing")

        // Taking over again reads and finds nothing: the positions moved with the round.
        let again = try db.transaction { try relay.takeOver(connection: db, producer: producer) }
        XCTAssertEqual(again.read, 0)
        XCTAssertEqual(again.found, 0)
    }

    /// Messages that another producer wrote since the last recorded position (an older
    /// gridloopd's relay during an upgrade, say) are not all read: a round publishes
    /// `relay.batchSize` rows at most, so only that many at the end of a partition can be a dead
    /// round's.
    func testATakeOverReadsNoFurtherBackThanOneRound() throws {
        let (config, broker, db, relay, producer) = try setUpRelay("relay_takeover_bound", partitions: 1, batchSize: 10)
        defer { withExtendedLifetime(broker) {} }  // the broker stops when released
        let topic = config.topics.outcomes
        try db.transaction { _ = try relay.takeOver(connection: db, producer: producer) }

        // 500 messages from elsewhere, then a dead round's 4.
        let foreign = (0..<500).map { ProducerRecord(topic: topic, key: nil, value: Array("other \($0)".utf8)) }
        let ids = (0..<4).map { "12345:HF\($0)/a1/resolved" }
        try db.query(
            """
            INSERT INTO outbox (id, topic, msg_key, payload, msg_header_names, msg_header_values)
            SELECT i, $2, convert_to(i, 'UTF8'), convert_to(i, 'UTF8'), '{gridloop-id}', ARRAY[convert_to(i, 'UTF8')]
            FROM unnest($1::text[]) AS i
            """, [PostgresArray.text(ids), topic])
        let dead = ids.map {
            ProducerRecord(
                topic: topic, key: Array($0.utf8), value: Array($0.utf8),
                headers: [KafkaHeader(name: "gridloop-id", value: Array($0.utf8))])
        }
        for r in try producer.send(foreign + dead, timeout: .seconds(30)) {
            if case .failure(let e) = r { throw e }
        }

        let takeOver = try db.transaction { try relay.takeOver(connection: db, producer: producer) }
        XCTAssertEqual(takeOver.read, 10, "the last relay.batchSize messages, not all 504")
        XCTAssertEqual(takeOver.found, 4)
        XCTAssertEqual(try db.query("SELECT count(*) FROM outbox").int(0, 0), 0)
    }
}
