import CoreMetrics
import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopSettings
import GridloopStore
import Logging
import Synchronization

// Threading: `OutboxRelay.run()` runs on its own thread with its own PostgreSQL connection;
// the producer is thread-safe (librdkafka). `wake()` may be called from any thread.

/// Publishes outbox rows (dead letters, the ladder's events) with the idempotent producer and
/// deletes the delivered ones: the outbox is a queue of what is still to be published. A round
/// runs under a transaction-level advisory lock, so of several daemons one relay publishes at a
/// time and none publishes a row another is publishing.
///
/// A relay that dies between the broker's acknowledgement and its commit leaves rows in the
/// outbox that are on the topics already. So each round also records, per partition, the offset
/// after the last message it delivered (`relay_positions`), and a relay that cannot be sure it
/// was the last to publish (a new session, a failed delivery, the lock found taken since) first
/// reads every partition from its recorded position to the high watermark and deletes the rows
/// whose `gridloop-id` it finds there (`takeOver`). Only a message still in flight to the broker
/// when its relay died can then be published twice; it carries the same id.
public final class OutboxRelay: Sendable {
    private let config: GridloopConfig
    private let logger: Logger
    private let stop: StopSignal
    private let pending = Atomic<Bool>(true)
    public let published = Atomic<Int>(0)
    private let health: Health

    public init(config: GridloopConfig, logger: Logger, stop: StopSignal, health: Health = Health()) {
        self.config = config
        self.health = health
        self.logger = logger
        self.stop = stop
    }

    /// Tells the relay that new rows may be waiting.
    public func wake() { pending.store(true, ordering: .releasing) }

    /// A relay session: its connection and producer, and whether it knows that no other
    /// publisher left delivered rows behind (`takeOver`); a new session does not.
    private final class Session {
        let connection: PostgresConnection
        let producer: KafkaProducer
        var caughtUp = false
        var idleRounds = 0
        init(connection: PostgresConnection, producer: KafkaProducer) {
            self.connection = connection
            self.producer = producer
        }
    }

    public func run() {
        WorkerLoop(name: "outbox relay", logger: logger, stop: stop, failureLevel: .error).run(
            open: {
                Session(
                    connection: try config.connectDatabase("gridloopd-relay"),
                    producer: try KafkaProducer(configuration: config.producerConfiguration))
            },
            round: { s in
                health.update { $0.relayBeat = monotonicNanos() }
                if try publishRound(connection: s.connection, producer: s.producer, caughtUp: &s.caughtUp) > 0 {
                    s.idleRounds = 0
                    return .now
                }
                // Nothing to send: poll again soon, sooner when woken.
                s.idleRounds += 1
                return .after(millis: min(1000, 50 * s.idleRounds))
            },
            failed: { [health] _, wait in
                // Not hung: waiting. The watchdog reads the beat (Supervisor).
                health.update { $0.relayBeat = monotonicNanos() + UInt64(wait) * 1_000_000 }
            },
            close: { $0.producer.flush(timeout: .seconds(5)) },
            woken: { pending.exchange(false, ordering: .acquiringAndReleasing) })
    }

    /// Claims up to a batch of rows, publishes them, deletes the delivered ones.
    /// Returns how many were delivered. `caughtUp`: whether this relay knows that no other
    /// publisher has left delivered rows behind since its last round (see `takeOver`); a round
    /// that finds the lock taken or has a delivery fail clears it.
    func publishRound(connection: PostgresConnection, producer: KafkaProducer, caughtUp: inout Bool) throws -> Int {
        try connection.transaction {
            // One relay of the cluster publishes at a time: the others find the lock taken and
            // wait for their next round. Rows need no lock of their own then (a row lock is a
            // write, and a WAL record, per row).
            guard try OutboxQueue.tryLock(connection) else {
                caughtUp = false
                return 0
            }
            if !caughtUp {
                // Committed with this round; a failed commit ends the session, and the next
                // session takes over again.
                try takeOver(connection: connection, producer: producer)
                caughtUp = true
            }
            let rows = try OutboxQueue.oldest(config.relayBatchSize, connection: connection)
            guard !rows.isEmpty else { return 0 }
            let records = rows.map { r in
                ProducerRecord(
                    topic: r.message.topic, partition: nil, key: r.message.key, value: r.message.value,
                    headers: r.message.headers.map { KafkaHeader(name: $0.name, value: $0.value) })
            }
            let results = try producer.send(records, timeout: .seconds(30))
            var delivered: [Int64] = []
            var failures = 0
            var firstFailure = ""
            var byTopic: [String: Int] = [:]
            var next: [TopicPartition: Int64] = [:]
            for (i, r) in results.enumerated() {
                switch r {
                case .success(let at):
                    delivered.append(rows[i].seq)
                    let topic = rows[i].message.topic
                    byTopic[topic, default: 0] += 1
                    let tp = TopicPartition(topic: topic, partition: at.partition)
                    next[tp] = max(next[tp] ?? 0, at.offset + 1)
                case .failure(let e):
                    if failures == 0 { firstFailure = "\(e)" }
                    failures += 1
                }
            }
            if !delivered.isEmpty {
                // One statement: the rows go, the positions move.
                try OutboxQueue.deletePublished(seqs: delivered, positions: next, connection: connection)
            }
            // A failed delivery may still have been written (a timeout, say): look before a
            // round publishes it again.
            if failures > 0 { caughtUp = false }
            for (topic, n) in byTopic { Counter(label: Metric.published, dimensions: [("topic", topic)]).increment(by: n) }
            if failures > 0 {
                Counter(label: Metric.publishErrors).increment(by: failures)
                logger.error(
                    "outbox publish failed; will retry",
                    metadata: [
                        "failed": "\(failures)", "error": "\(firstFailure)",
                    ])
            }
            published.add(delivered.count, ordering: .relaxed)
            return delivered.count
        }
    }

    /// Makes the outbox agree with the topics before this relay publishes: every partition of the
    /// topics the relay publishes to is read from its recorded position to its high watermark,
    /// and the rows whose `gridloop-id` is found there (delivered by a relay that died before its
    /// commit) are deleted rather than published again. A partition with no position yet (new,
    /// or from before migration 006) gets its high watermark as its position, unread. Runs in
    /// the round's transaction, under the relay lock. Returns how many messages it read and how
    /// many rows it found published.
    @discardableResult
    func takeOver(connection: PostgresConnection, producer: KafkaProducer) throws -> (read: Int64, found: Int) {
        let recorded = try OutboxQueue.positions(connection)
        let topics = [
            config.topics.deadLetter, config.topics.escalations, config.topics.supervision, config.topics.outcomes,
            config.topics.reports,
        ]
        let all = try producer.partitions(of: topics).flatMap { t, ps in ps.map { TopicPartition(topic: t, partition: $0) } }
        let highs = try producer.offsets(all, at: KafkaOffset.end)
        // Where each partition with messages after its recorded position is read from. A round
        // publishes `relay.batchSize` rows at most, so no more than that many at the end of a
        // partition can be from a round that did not commit; anything before them came from
        // another producer (an older gridloopd during an upgrade, say) and needs no reading.
        var start: [TopicPartition: Int64] = [:]
        var end: [TopicPartition: Int64] = [:]
        for (tp, high) in highs {
            if let r = recorded[tp], case let from = max(r, high - Int64(config.relayBatchSize)), from < high {
                start[tp] = from
                end[tp] = high
            }
        }
        // Nor from before the oldest message kept.
        for (tp, low) in try producer.offsets(Array(start.keys), at: KafkaOffset.beginning) where low > start[tp]! {
            if low < end[tp]! {
                start[tp] = low
            } else {
                start[tp] = nil
                end[tp] = nil
            }
        }
        let positions = highs.filter { recorded[$0.key] != $0.value }
        let ids = start.isEmpty ? [] : try publishedIds(start: start, end: end)
        var found = 0
        if !ids.isEmpty {
            found = try OutboxQueue.deletePublished(ids: Array(ids), connection: connection)
        }
        if !positions.isEmpty {
            try OutboxQueue.record(positions, connection: connection)
        }
        let read = end.reduce(Int64(0)) { $0 + $1.value - start[$1.key]! }
        logger.log(
            level: found > 0 ? .info : .debug, "outbox relay took over",
            metadata: [
                "read": "\(read)", "found_published": "\(found)",
            ])
        return (read, found)
    }

    /// The `gridloop-id` headers of the messages from `start` up to `end` (exclusive) per partition.
    private func publishedIds(start: [TopicPartition: Int64], end: [TopicPartition: Int64]) throws -> Set<String> {
        var props = config.consumerConfiguration
        props["group.id"] = "\(config.consumerGroup).relay-takeover"  // joined by no one: assign only
        let reader = try KafkaConsumer(configuration: props, reading: start) { [logger] error in
            logger.warning("outbox relay take-over read: \(error)")
        }
        defer { reader.close() }
        var remaining = end
        var ids: Set<String> = []
        let deadline = monotonicNanos() + 30_000_000_000
        while !remaining.isEmpty {
            guard monotonicNanos() < deadline, !stop.isSet else {
                throw RelayTakeOverError(unread: remaining.keys.map(\.description).sorted())
            }
            for m in try reader.poll(maxMessages: 5000, timeout: .milliseconds(200)) {
                if let id = m.headers.first(where: { $0.name == "gridloop-id" })?.value {
                    ids.insert(String(decoding: id, as: UTF8.self))
                }
                let tp = m.topicPartition
                if let e = remaining[tp], m.offset + 1 >= e { remaining[tp] = nil }
            }
        }
        return ids
    }
}

/// The take-over could not read a partition up to its high watermark in time: the round
/// publishes nothing, and the next session tries again.
struct RelayTakeOverError: Error, CustomStringConvertible {
    let unread: [String]
    var description: String { "could not read \(unread.joined(separator: ", ")) back to its high watermark within 30 s" }
}
