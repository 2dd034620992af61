import GridloopCore
import GridloopPostgres

/// The SQL of `gridloopd report scorecard --publish`: a report's revisions (`report_publications`)
/// and its event, queued in the outbox in the same transaction, so a revision is recorded if and
/// only if its event is on its way (the relay publishes it like any decision).
package enum ReportPublicationQueries {
    /// What `publish` did.
    package enum Outcome: Equatable {
        /// The last revision has the same figures: nothing queued.
        case unchanged(revision: Int, eventId: String)
        /// This revision recorded and its event queued.
        case queued(revision: Int, eventId: String)
    }

    /// In one transaction, under a lock of the report's key (two publishers at once queue one
    /// revision): when the last revision of (kind, period, level) has `hash`, nothing; otherwise
    /// revision last + 1 (1 for the first) is recorded and `message(revision)` queued.
    package static func publish(
        kind: String, from: String, to: String, level: String, hash: String,
        message: (Int) throws -> OutboxMessage, db: PostgresConnection
    ) throws -> Outcome {
        try db.transaction {
            _ = try db.query(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ["report/\(kind)/\(from)/\(to)/\(level)"],
                context: "lock the report")
            let last = try db.query(
                """
                SELECT revision, content_hash, event_id FROM report_publications
                WHERE kind = $1 AND period_from = $2::date AND period_to = $3::date AND level = $4
                ORDER BY revision DESC LIMIT 1
                """, [kind, from, to, level], context: "read the report's last revision")
            let t = "report_publications"
            var revision = 1
            if last.count == 1 {
                let previous = try last.int(0, 0, in: t)
                if try last.string(0, 1, in: t) == hash {
                    return .unchanged(revision: previous, eventId: try last.string(0, 2, in: t))
                }
                revision = previous + 1
            }
            let m = try message(revision)
            try OutboxQueue.queue([m], connection: db, context: "queue the report's revision")
            try db.query(
                """
                INSERT INTO report_publications (kind, period_from, period_to, level, revision, content_hash, event_id)
                VALUES ($1, $2::date, $3::date, $4, $5::integer, $6, $7)
                """, [kind, from, to, level, String(revision), hash, m.id], context: "record the report's revision")
            return .queued(revision: revision, eventId: m.id)
        }
    }

    /// Whether any revision of (kind, period, level) was published.
    package static func published(kind: String, from: String, to: String, db: PostgresConnection) throws -> [String] {
        let r = try db.query(
            """
            SELECT DISTINCT level FROM report_publications
            WHERE kind = $1 AND period_from = $2::date AND period_to = $3::date ORDER BY level
            """, [kind, from, to], context: "read the report's publications")
        return (0..<r.count).compactMap { r.string($0, 0) }
    }
}
