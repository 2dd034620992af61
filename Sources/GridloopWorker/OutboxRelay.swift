import GridloopCore
import GridloopKafka
import GridloopPostgres
import CoreMetrics
import Logging
import Synchronization

// Threading: `OutboxRelay.run()` runs on its own thread with its own PostgreSQL connection;
// the producer is thread-safe (librdkafka). `wake()` may be called from any thread.

/// Publishes outbox rows (dead letters, the ladder's events) with the idempotent producer and
/// deletes the delivered ones: the outbox is a queue of what is still to be published. A round
/// runs under a transaction-level advisory lock, so of several daemons one relay publishes at a
/// time and none publishes a row another is publishing; after a crash, rows not yet deleted are
/// published again with the same id (the `gridloop-id` header), which consumers use to drop repeats.
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

    public func run() {
        var backoff = Backoff()
        var errors = RepeatedErrorLog()
        while !stop.isSet {
            do {
                let connection = try config.connectDatabase("gridloopd-relay")
                let producer = try KafkaProducer(configuration: config.producerConfiguration)
                defer { producer.flush(timeout: .seconds(5)) }
                backoff.reset()
                errors.reset()
                var idleRounds = 0
                while !stop.isSet {
                    health.update { $0.relayBeat = monotonicNanos() }
                    let sent = try publishRound(connection: connection, producer: producer)
                    if sent > 0 {
                        idleRounds = 0
                        continue
                    }
                    // Nothing to send: poll again soon, sooner when woken.
                    idleRounds += 1
                    var waited = 0
                    while !stop.isSet, waited < min(1000, 50 * idleRounds), !pending.load(ordering: .acquiring) {
                        usleepMillis(10)
                        waited += 10
                    }
                    pending.store(false, ordering: .releasing)
                }
            } catch {
                let wait = backoff.nextMillis()
                health.update { $0.relayBeat = monotonicNanos() + UInt64(wait) * 1_000_000 }
                errors.error(logger, "outbox relay interrupted, retrying in \(wait) ms: \(error)")
                stop.sleep(millis: wait)
            }
        }
    }

    /// The advisory lock that the relays of all daemons sharing the database take in turn.
    static let lockKey: Int64 = 0x6772_6964_6C6F_6F70  // "gridloop"

    /// Claims up to a batch of rows, publishes them, deletes the delivered ones.
    /// Returns how many were delivered.
    func publishRound(connection: PostgresConnection, producer: KafkaProducer) throws -> Int {
        try connection.transaction {
            // One relay of the cluster publishes at a time: the others find the lock taken and
            // wait for their next round. Rows need no lock of their own then (a row lock is a
            // write, and a WAL record, per row).
            let lock = try connection.query("SELECT pg_try_advisory_xact_lock($1)", [String(Self.lockKey)],
                                            context: "take the relay lock")
            guard lock.bool(0, 0) == true else { return 0 }
            // Binary rows: payloads come as their bytes, not as hex.
            let rows = try connection.queryBinary("""
                SELECT seq, id, topic, msg_key, payload, headers::text FROM outbox ORDER BY seq LIMIT $1
                """, [String(config.relayBatchSize)], context: "read outbox rows")
            guard rows.count > 0 else { return 0 }
            var records: [ProducerRecord] = []
            records.reserveCapacity(rows.count)
            for i in 0..<rows.count {
                let kafkaHeaders = Self.headers(stored: rows.string(i, 5) ?? "{}", id: rows.string(i, 1)!)
                records.append(ProducerRecord(topic: rows.string(i, 2)!, partition: nil, key: rows.bytes(i, 3),
                                              value: rows.bytes(i, 4) ?? [], headers: kafkaHeaders))
            }
            let results = try producer.send(records, timeout: .seconds(30))
            var delivered: [Int64] = []
            var failures = 0
            var firstFailure = ""
            var byTopic: [String: Int] = [:]
            for (i, r) in results.enumerated() {
                switch r {
                case .success:
                    delivered.append(rows.int64(i, 0)!)
                    byTopic[rows.string(i, 2)!, default: 0] += 1
                case .failure(let e):
                    if failures == 0 { firstFailure = "\(e)" }
                    failures += 1
                }
            }
            if !delivered.isEmpty {
                try connection.query("DELETE FROM outbox WHERE seq = ANY($1::bigint[])",
                                     [PostgresArray.int(delivered)], context: "delete published outbox rows")
            }
            for (topic, n) in byTopic { Counter(label: Metric.published, dimensions: [("topic", topic)]).increment(by: n) }
            if failures > 0 {
                Counter(label: Metric.publishErrors).increment(by: failures)
                logger.error("outbox publish failed; will retry", metadata: [
                    "failed": "\(failures)", "error": "\(firstFailure)",
                ])
            }
            published.add(delivered.count, ordering: .relaxed)
            return delivered.count
        }
    }

    /// A row's Kafka headers: those stored with it (dead letters), or, for a decision (stored
    /// without), the ones that follow from its id.
    static func headers(stored: String, id: String) -> [KafkaHeader] {
        var flat = parseTextArray(stored)
        if flat.isEmpty { flat = OutboundEvent.headers(id: id) }
        var out: [KafkaHeader] = []
        out.reserveCapacity(flat.count / 2)
        var j = 0
        while j + 1 < flat.count {
            out.append(KafkaHeader(name: flat[j], value: Array(flat[j + 1].utf8)))
            j += 2
        }
        return out
    }

    /// Parses PostgreSQL's text form of a `text[]` (`{a,"b c"}`).
    static func parseTextArray(_ s: String) -> [String] {
        var out: [String] = []
        var chars = Array(s.unicodeScalars)
        guard chars.first == "{", chars.last == "}" else { return [] }
        chars = Array(chars.dropFirst().dropLast())
        var i = 0
        while i < chars.count {
            var value = String.UnicodeScalarView()
            if chars[i] == "\"" {
                i += 1
                while i < chars.count, chars[i] != "\"" {
                    if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                    value.append(chars[i])
                    i += 1
                }
                i += 1  // closing quote
            } else {
                while i < chars.count, chars[i] != "," {
                    value.append(chars[i])
                    i += 1
                }
            }
            out.append(String(value))
            i += 1  // comma
        }
        return out
    }
}
