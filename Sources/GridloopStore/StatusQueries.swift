import GridloopCore
import GridloopPostgres

/// The reads of `gridloopd status`; `StatusView` (in GridloopViews) adds what the brokers say
/// and formats.
package enum StatusQueries {
    private static func t(_ column: String) -> String { TimeSQL.t(column) }

    /// A consumer group's committed position on one partition.
    package struct CommittedOffset: Sendable {
        package var topicPartition: TopicPartition
        /// The next offset to read; nil: nothing committed yet.
        package var next: Int64?
        /// When it was last moved (RFC 3339); nil with `next`.
        package var updatedAt: String?
    }

    /// The committed offsets of `consumerGroup`, by topic and partition.
    package static func offsets(consumerGroup: String, from db: Database) throws -> [CommittedOffset] {
        let r = try db.query(
            """
            SELECT topic, partition, next_offset, \(t("updated_at")) FROM consumer_offsets
            WHERE consumer_group = $1 ORDER BY topic, partition
            """, [consumerGroup], context: "read consumer offsets")
        let table = "consumer_offsets"
        return try (0..<r.count).map { i in
            let next = try r.int64(i, 2, in: table)  // -2: nothing committed yet
            return CommittedOffset(
                topicPartition: TopicPartition(
                    topic: try r.string(i, 0, in: table), partition: Int32(try r.int(i, 1, in: table))),
                next: next >= 0 ? next : nil, updatedAt: next >= 0 ? r.string(i, 3) : nil)
        }
    }

    /// What `status` counts in the database.
    package struct Counts: Sendable {
        /// Events waiting in the outbox, and the age of the oldest in seconds (nil: none).
        package var outboxBacklog: Int
        package var oldestUnsentAgeSeconds: Double?
        /// Clocks due and not fired.
        package var dueClocks: Int
        /// Dead letters since 00:00 today (Asia/Shanghai), and those not re-driven.
        package var deadLettersToday: Int
        package var deadLettersNotRetried: Int
        /// The database's now (RFC 3339).
        package var asOf: String
    }

    package static func counts(from db: Database) throws -> Counts {
        let r = try db.query(
            """
            SELECT (SELECT count(*) FROM outbox),
                   (SELECT extract(epoch FROM now() - min(created_at))::float8 FROM outbox),
                   (SELECT count(*) FROM case_clocks WHERE next_due <= now()),
                   (SELECT count(*) FROM dead_letters
                     WHERE created_at >= (date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai')),
                   (SELECT count(*) FROM dead_letters WHERE retried_at IS NULL),
                   \(t("now()"))
            """, context: "read status")
        let what = "status counts"
        return Counts(
            outboxBacklog: try r.int(0, 0, in: what), oldestUnsentAgeSeconds: r.string(0, 1).flatMap(Double.init),
            dueClocks: try r.int(0, 2, in: what), deadLettersToday: try r.int(0, 3, in: what),
            deadLettersNotRetried: try r.int(0, 4, in: what), asOf: try r.string(0, 5, in: what))
    }

    /// The earliest clock due and not fired.
    package struct OldestDue: Sendable {
        /// When it fell due (RFC 3339).
        package var due: String
        package var caseId: String
        /// The case's assignee: the unit that must act (nil when the case row is missing).
        package var unitCode: String?
        package var unitName: String?
    }

    /// The earliest clock due and not fired; nil: none.
    package static func oldestDue(from db: Database) throws -> OldestDue? {
        let r = try db.query(
            """
            SELECT \(t("k.next_due")), k.case_id, c.unit_code, c.unit_name
            FROM case_clocks k LEFT JOIN cases c ON c.case_id = k.case_id
            WHERE k.next_due <= now() ORDER BY k.next_due LIMIT 1
            """, context: "read the oldest due clock")
        guard r.count > 0 else { return nil }
        return OldestDue(
            due: try r.string(0, 0, in: "case_clocks"), caseId: try r.string(0, 1, in: "case_clocks"),
            unitCode: r.string(0, 2), unitName: r.string(0, 3))
    }
}
