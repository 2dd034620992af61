import GridloopKafka
import GridloopPostgres

/// `gridloopd dlq retry`: re-drives dead letters after a fix (a corrected feed adapter, a late
/// DISPATCH): each message's original key and bytes go back to the partition they came from,
/// with a `gridloop-retry-of` header, and the row is marked retried. The intake then treats it
/// as any new message: applied if it is valid now (a resend of something applied since changes
/// nothing), dead-lettered again, as a new row, if it is not.
public enum DeadLetterRetry {
    public struct Outcome: Codable, Sendable {
        public var id: Int64
        public var topic: String
        public var partition: Int
        /// Where the message was published again.
        public var newOffset: Int64
    }

    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Re-drives the given dead letters (all not retried yet when `ids` is nil). One transaction:
    /// rows are locked, published (waiting for the broker's acknowledgement), then marked. A
    /// crash between the two publishes again at the next retry; the intake's resend checks make
    /// that harmless.
    public static func retry(ids: [Int64]?, config: GridloopConfig, db: PostgresConnection) throws -> [Outcome] {
        try db.transaction {
            let rows: PostgresRows
            if let ids {
                rows = try db.query("""
                    SELECT id, topic, partition, msg_key, msg_value, retried_at IS NOT NULL FROM dead_letters
                    WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE
                    """, [PostgresArray.int(ids)], context: "lock dead letters")
                let found = Set((0..<rows.count).map { rows.int64($0, 0)! })
                if let missing = ids.first(where: { !found.contains($0) }) {
                    throw Refusal(description: "no dead letter \(missing) (see gridloopd dlq list)")
                }
                if let done = (0..<rows.count).first(where: { rows.string($0, 5) == "t" }) {
                    throw Refusal(description: "dead letter \(rows.int64(done, 0)!) was retried already; "
                        + "if it failed again it is a new dead letter with its own id (gridloopd dlq list)")
                }
            } else {
                rows = try db.query("""
                    SELECT id, topic, partition, msg_key, msg_value, false FROM dead_letters
                    WHERE retried_at IS NULL ORDER BY id FOR UPDATE
                    """, context: "lock dead letters")
            }
            guard rows.count > 0 else { return [] }
            let records = (0..<rows.count).map { i in
                ProducerRecord(topic: rows.string(i, 1)!, partition: Int32(rows.int(i, 2)!), key: rows.bytes(i, 3),
                               value: rows.bytes(i, 4) ?? [],
                               headers: [KafkaHeader(name: "gridloop-retry-of", value: Array(String(rows.int64(i, 0)!).utf8))])
            }
            let producer = try KafkaProducer(configuration: config.producerConfiguration)
            var outcomes: [Outcome] = []
            for (i, result) in try producer.send(records, timeout: .seconds(30)).enumerated() {
                switch result {
                case .success(let delivered):
                    outcomes.append(Outcome(id: rows.int64(i, 0)!, topic: rows.string(i, 1)!, partition: Int(delivered.partition),
                                            newOffset: delivered.offset))
                case .failure(let error):
                    throw Refusal(description: "publishing dead letter \(rows.int64(i, 0)!) failed, nothing marked: \(error)")
                }
            }
            try db.query("UPDATE dead_letters SET retried_at = now() WHERE id = ANY($1::bigint[])",
                         [PostgresArray.int(outcomes.map(\.id))], context: "mark dead letters retried")
            return outcomes
        }
    }
}
