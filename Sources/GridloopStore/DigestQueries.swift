import GridloopCore
import GridloopPostgres

/// The SQL of the morning digests (`gridloop.unit.digest`, docs/FORECAST.md): whether a day's
/// digests are queued (`unit_digest_days`), and queuing them with their outbox rows in one
/// transaction, so that a day is recorded if and only if its digests are on their way.
package enum DigestQueries {
    /// Whether the digests of `day` (`YYYY-MM-DD`) were queued.
    package static func queued(day: String, db: PostgresConnection) throws -> Bool {
        try db.query("SELECT 1 FROM unit_digest_days WHERE day = $1::date", [day], context: "read the digest day").count > 0
    }

    /// In one transaction, under a lock of the day (two daemons at once queue one set): when the
    /// day is recorded already, nothing (false); otherwise each of `messages` is queued in the
    /// outbox and the day recorded with `computedAt` (epoch ms) (true).
    package static func queue(
        day: String, computedAt: Int64, messages all: [OutboxMessage], db: PostgresConnection
    ) throws -> Bool {
        try db.transaction {
            _ = try db.query(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ["digest/\(day)"], context: "lock the digest day")
            if try queued(day: day, db: db) { return false }
            for m in all {
                try db.query(
                    """
                    INSERT INTO outbox (id, topic, msg_key, payload, msg_header_names, msg_header_values)
                    VALUES ($1, $2, convert_to($3, 'UTF8'), convert_to($4, 'UTF8'), $5::text[],
                            ARRAY(SELECT convert_to(v, 'UTF8') FROM unnest($6::text[]) WITH ORDINALITY AS h(v, i) ORDER BY i))
                    """,
                    [
                        m.id, m.topic, String(decoding: m.key ?? [], as: UTF8.self), String(decoding: m.value, as: UTF8.self),
                        PostgresArray.text(m.headers.map(\.name)),
                        PostgresArray.text(m.headers.map { String(decoding: $0.value ?? [], as: UTF8.self) }),
                    ], context: "queue a unit digest")
            }
            try db.query(
                """
                INSERT INTO unit_digest_days (day, computed_at, digests)
                VALUES ($1::date, to_timestamp($2::bigint / 1000.0), $3::integer)
                """, [day, String(computedAt), String(all.count)], context: "record the digest day")
            return true
        }
    }
}
