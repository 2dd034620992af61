import GridloopCore
import GridloopPostgres

/// The reads and writes of `gridloopd dlq list` and `dlq retry` on `dead_letters`.
package enum DeadLetterQueries {
    private static func t(_ column: String) -> String { TimeSQL.t(column) }

    /// A dead letter as `dlq list` shows it (its bytes are not read).
    package struct Listed: Sendable {
        package var id: Int64
        package var source: SourceCoordinates
        package var reason: String
        package var caseId: String?
        /// When it was recorded (RFC 3339).
        package var createdAt: String
        /// The message's length (the original's, once redacted).
        package var bytes: Int
        /// When `dlq retry` re-drove it and the offset it was published at; nil: not re-driven.
        package var retriedAt: String?
        package var retriedOffset: Int64?
        /// The dead letter this message re-drove (its `gridloop-retry-of` header).
        package var retryOf: Int64?
        /// When its bytes were redacted, and the original's SHA-256 (hex).
        package var redactedAt: String?
        package var sha256: String?
    }

    /// The newest `limit` dead letters, newest first.
    package static func list(limit: Int, from db: PostgresConnection) throws -> [Listed] {
        let r = try db.query(
            """
            SELECT id, topic, partition, "offset", reason, case_id, \(t("created_at")), COALESCE(msg_length, length(msg_value)),
                   \(t("retried_at")), retried_offset,
                   encode(msg_header_values[array_position(msg_header_names, 'gridloop-retry-of')], 'escape'),
                   \(t("redacted_at")), encode(msg_sha256, 'hex')
            FROM dead_letters ORDER BY id DESC LIMIT $1
            """, [String(limit)], context: "read dead_letters")
        let t = "dead_letters"
        return try (0..<r.count).map { i in
            Listed(
                id: try r.int64(i, 0, in: t),
                source: SourceCoordinates(
                    topic: try r.string(i, 1, in: t), partition: Int32(try r.int(i, 2, in: t)),
                    offset: try r.int64(i, 3, in: t)),
                reason: try r.string(i, 4, in: t), caseId: r.string(i, 5), createdAt: try r.string(i, 6, in: t),
                bytes: r.int(i, 7) ?? 0, retriedAt: r.string(i, 8), retriedOffset: r.int64(i, 9),
                retryOf: r.string(i, 10).flatMap { Int64($0) }, redactedAt: r.string(i, 11), sha256: r.string(i, 12))
        }
    }

    /// A dead letter locked for a re-drive.
    package struct Locked: Sendable {
        package var id: Int64
        package var topicPartition: TopicPartition
        package var key: [UInt8]?
        /// Empty once redacted.
        package var value: [UInt8]
        /// When it was re-driven already (RFC 3339) and where it was published; nil: not yet.
        package var retriedAt: String?
        package var retriedOffset: Int64?
        /// Whether its headers were kept (dead letters from before version 10 have none).
        package var headersKept: Bool
        /// When its bytes were redacted (RFC 3339); nil: it holds them.
        package var redactedAt: String?
    }

    /// Locks (`FOR UPDATE`, in the caller's transaction) the dead letters `ids`, or every one not
    /// retried yet when `ids` is nil, in id order. Without `ids`, the redacted ones are left out:
    /// their bytes are gone.
    package static func lock(ids: [Int64]?, db: PostgresConnection) throws -> [Locked] {
        let select = """
            SELECT id, topic, partition, msg_key, msg_value, \(t("retried_at")), retried_offset, msg_header_names IS NOT NULL,
                   \(t("redacted_at"))
            FROM dead_letters
            """
        let r =
            if let ids {
                try db.query(
                    select + " WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE",
                    [PostgresArray.int(ids)], context: "lock dead letters")
            } else {
                try db.query(
                    select + " WHERE retried_at IS NULL AND redacted_at IS NULL ORDER BY id FOR UPDATE",
                    context: "lock dead letters")
            }
        let t = "dead_letters"
        return try (0..<r.count).map { i in
            Locked(
                id: try r.int64(i, 0, in: t),
                topicPartition: TopicPartition(topic: try r.string(i, 1, in: t), partition: Int32(try r.int(i, 2, in: t))),
                key: r.bytes(i, 3), value: r.bytes(i, 4) ?? [], retriedAt: r.string(i, 5), retriedOffset: r.int64(i, 6),
                headersKept: r.bool(i, 7) == true, redactedAt: r.string(i, 8))
        }
    }

    /// Marks the dead letters `ids` retried now, each published again at its `offsets` entry.
    package static func markRetried(ids: [Int64], offsets: [Int64], db: PostgresConnection) throws {
        try db.query(
            """
            UPDATE dead_letters d SET retried_at = now(), retried_offset = v.o
            FROM unnest($1::bigint[], $2::bigint[]) AS v(id, o) WHERE d.id = v.id
            """, [PostgresArray.int(ids), PostgresArray.int(offsets)],
            context: "mark dead letters retried")
    }
}
