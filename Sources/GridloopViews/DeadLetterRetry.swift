import GridloopCore
import GridloopKafka
import GridloopSettings
import GridloopStore

/// `gridloopd dlq retry`: re-drives dead letters after a fix (a corrected feed adapter, a late
/// DISPATCH): each message's original key, bytes and headers go back to the partition they came
/// from, with a `gridloop-retry-of: <id>` header added, and the row is marked retried (when, and
/// the new offset). The intake then treats it as any new message: applied if it is valid now (a
/// resend of something applied since changes nothing), dead-lettered again, as a new row that
/// names the old one, if it is not.
public enum DeadLetterRetry {
    /// A dead letter published again.
    public struct Outcome: Codable, Sendable {
        public var id: Int64
        public var topic: String
        public var partition: Int
        /// Where the message was published again.
        public var newOffset: Int64
        /// Original headers published with it; nil: the row predates migration 003 and has none kept.
        public var headers: Int?
    }

    /// What a retry did: the dead letters published and marked, and those that could not be
    /// published (not marked: retry them again).
    public struct Summary: Codable, Sendable {
        public var published: [Outcome]
        public var failed: [Failure]
    }

    public struct Failure: Codable, Sendable, CustomStringConvertible {
        public var id: Int64
        public var error: String
        public var description: String { "dead letter \(id) could not be published, not marked retried: \(error)" }
    }

    /// A retry refused before anything was published.
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The header added to a re-driven message: the id of the dead letter it re-drives.
    public static let retryHeader = "gridloop-retry-of"

    /// Re-drives the given dead letters (every one not retried yet when `ids` is nil), in id order.
    /// One transaction: the rows are locked (a concurrent retry of the same id waits, then
    /// refuses), published with the idempotent producer (waiting for the brokers'
    /// acknowledgements), marked with the time and new offset of those delivered, committed. A
    /// crash between publishing and the commit leaves the rows unmarked: a second retry publishes
    /// them again, which the intake's resend checks make harmless for a valid message (a damaged
    /// one is dead-lettered once more).
    public static func retry(ids: [Int64]?, config: GridloopConfig, db: Database) throws -> Summary {
        try db.transaction {
            let rows = try DeadLetterQueries.lock(ids: ids, db: db)
            if let ids {
                let found = Set(rows.map(\.id))
                if let missing = ids.first(where: { !found.contains($0) }) {
                    throw Refusal(
                        description: "no dead letter \(missing) (gridloopd dlq list shows their ids); nothing published")
                }
                if let gone = rows.first(where: { $0.redactedAt != nil }), let at = gone.redactedAt {
                    throw Refusal(
                        description: "dead letter \(gone.id) cannot be retried: its message was redacted at "
                            + "\(at) under retention.deadLetterBytes (the bytes held personal data; its "
                            + "reason, headers and SHA-256 remain, gridloopd dlq list); ask the platform to send it again; "
                            + "nothing published")
                }
                if let done = rows.first(where: { $0.retriedAt != nil }), let at = done.retriedAt {
                    throw Refusal(
                        description: "dead letter \(done.id) was retried already, at \(at) "
                            + "(published again to \(done.topicPartition.topic)[\(done.topicPartition.partition)]@\(done.retriedOffset.map(String.init) ?? "?")); "
                            + "a message that failed again is a new dead letter with its own id (gridloopd dlq list); nothing published"
                    )
                }
            }
            guard !rows.isEmpty else { return Summary(published: [], failed: []) }
            let ids = rows.map(\.id)
            let stored = try StoredHeaders.read(db, table: "dead_letters", keyColumn: "id", keys: ids.map { String($0) })
            let records = rows.map { row in
                let original = (stored[String(row.id)] ?? []).filter { $0.name != retryHeader }
                return ProducerRecord(
                    topic: row.topicPartition.topic, partition: row.topicPartition.partition, key: row.key,
                    value: row.value,
                    headers: original.map { KafkaHeader(name: $0.name, value: $0.value) }
                        + [KafkaHeader(name: retryHeader, value: Array(String(row.id).utf8))])
            }
            let producer = try KafkaProducer(configuration: config.producerConfiguration)
            var result = Summary(published: [], failed: [])
            for (i, delivery) in try producer.send(records, timeout: .seconds(30)).enumerated() {
                switch delivery {
                case .success(let d):
                    result.published.append(
                        Outcome(
                            id: ids[i], topic: rows[i].topicPartition.topic, partition: Int(d.partition),
                            newOffset: d.offset, headers: rows[i].headersKept ? records[i].headers.count - 1 : nil))
                case .failure(let error):
                    result.failed.append(Failure(id: ids[i], error: "\(error)"))
                }
            }
            if !result.published.isEmpty {
                try DeadLetterQueries.markRetried(
                    ids: result.published.map(\.id), offsets: result.published.map(\.newOffset),
                    db: db)
            }
            return result
        }
    }
}
