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
    /// day is recorded already, nothing (false); otherwise `messages` are queued in the outbox
    /// (one COPY) and the day recorded with `computedAt` (epoch ms) (true).
    package static func queue(
        day: String, computedAt: Int64, messages all: [OutboxMessage], db: PostgresConnection
    ) throws -> Bool {
        try db.transaction {
            _ = try db.query(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ["digest/\(day)"], context: "lock the digest day")
            if try queued(day: day, db: db) { return false }
            try OutboxQueue.queue(all, connection: db, context: "queue the unit digests")
            try db.query(
                """
                INSERT INTO unit_digest_days (day, computed_at, digests)
                VALUES ($1::date, to_timestamp($2::bigint / 1000.0), $3::integer)
                """, [day, String(computedAt), String(all.count)], context: "record the digest day")
            return true
        }
    }
}
