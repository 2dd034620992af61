import GridloopPostgres

/// The reads and writes of `gridloopd dlq list` and `dlq retry` on `dead_letters`.
package enum DeadLetterQueries {
    private static func t(_ column: String) -> String { TimeSQL.t(column) }

    /// The newest `limit` dead letters: id, topic, partition, offset, reason, case_id, created_at
    /// (RFC 3339), the message's length, retried_at (RFC 3339), retried_offset, and the id its
    /// `gridloop-retry-of` header names (text), if any, and when its bytes were redacted
    /// (RFC 3339; the length is then the original's) with their SHA-256 (hex).
    package static func list(limit: Int, from db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            SELECT id, topic, partition, "offset", reason, case_id, \(t("created_at")), COALESCE(msg_length, length(msg_value)),
                   \(t("retried_at")), retried_offset,
                   encode(msg_header_values[array_position(msg_header_names, 'gridloop-retry-of')], 'escape'),
                   \(t("redacted_at")), encode(msg_sha256, 'hex')
            FROM dead_letters ORDER BY id DESC LIMIT $1
            """, [String(limit)], context: "read dead_letters")
    }

    /// Locks (`FOR UPDATE`, in the caller's transaction) the dead letters `ids`, or every one not
    /// retried yet when `ids` is nil, in id order: id, topic, partition, msg_key, msg_value,
    /// retried_at (RFC 3339), retried_offset, whether headers were kept, redacted_at (RFC 3339).
    /// Without `ids`, the redacted ones are left out: their bytes are gone.
    package static func lock(ids: [Int64]?, db: PostgresConnection) throws -> PostgresRows {
        let select = """
            SELECT id, topic, partition, msg_key, msg_value, \(t("retried_at")), retried_offset, msg_header_names IS NOT NULL,
                   \(t("redacted_at"))
            FROM dead_letters
            """
        if let ids {
            return try db.query(
                select + " WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE",
                [PostgresArray.int(ids)], context: "lock dead letters")
        }
        return try db.query(
            select + " WHERE retried_at IS NULL AND redacted_at IS NULL ORDER BY id FOR UPDATE", context: "lock dead letters")
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
