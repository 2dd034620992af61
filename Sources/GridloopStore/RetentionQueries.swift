import GridloopPostgres

/// What `gridloopd purge` reads and writes (docs/OPERATIONS.md, "Retention of personal data"):
/// dead letters' message bytes redacted after `retention.deadLetterBytes`, closed cases deleted
/// after `retention.closedCases`. Each write is one bounded batch in its own transaction, so a
/// purge never holds locks for long beside the intake, and a crash loses nothing but the batch.
package enum RetentionQueries {
    /// Rows per batch: a batch is a few milliseconds of locks on rows nobody else writes.
    package static let batchRows = 1000

    /// How many dead letters created before `cutoff` (RFC 3339) still hold their bytes, and the
    /// oldest's creation (RFC 3339).
    package static func deadLettersToRedact(before cutoff: String, db: PostgresConnection) throws -> (count: Int, oldest: String?)
    {
        let r = try db.query(
            """
            SELECT count(*), \(TimeSQL.t("min(created_at)")) FROM dead_letters
            WHERE redacted_at IS NULL AND created_at < $1::timestamptz
            """, [cutoff], context: "count dead letters to redact")
        return (r.int(0, 0) ?? 0, r.string(0, 1))
    }

    /// Redacts one batch of dead letters created before `cutoff`: the bytes become empty, their
    /// SHA-256 and length are kept. Returns how many.
    package static func redactDeadLetters(before cutoff: String, db: PostgresConnection) throws -> Int {
        let r = try db.query(
            """
            WITH b AS (
                SELECT id FROM dead_letters WHERE redacted_at IS NULL AND created_at < $1::timestamptz
                ORDER BY id LIMIT \(batchRows) FOR UPDATE SKIP LOCKED)
            UPDATE dead_letters d
            SET msg_sha256 = sha256(d.msg_value), msg_length = length(d.msg_value), msg_value = ''::bytea, redacted_at = now()
            FROM b WHERE d.id = b.id
            RETURNING d.id
            """, [cutoff], context: "redact dead letters")
        return r.count
    }

    /// The closed or withdrawn cases closed before `cutoff` (RFC 3339): how many, and the span
    /// of their closing (RFC 3339).
    package static func closedCasesToDelete(before cutoff: String, db: PostgresConnection) throws
        -> (count: Int, oldest: String?, newest: String?)
    {
        let r = try db.query(
            """
            SELECT count(*), \(TimeSQL.t("min(closed_at)")), \(TimeSQL.t("max(closed_at)")) FROM cases
            WHERE status IN ('CLOSED', 'WITHDRAWN') AND closed_at < $1::timestamptz
            """, [cutoff], context: "count closed cases to delete")
        return (r.int(0, 0) ?? 0, r.string(0, 1), r.string(0, 2))
    }

    /// What one batch of deleted cases took with it.
    package struct Deleted: Sendable, Equatable {
        package var cases = 0
        package var events = 0
        package var clocks = 0
        package var decisions = 0
        package var scorecardRows = 0

        package init(cases: Int = 0, events: Int = 0, clocks: Int = 0, decisions: Int = 0, scorecardRows: Int = 0) {
            self.cases = cases
            self.events = events
            self.clocks = clocks
            self.decisions = decisions
            self.scorecardRows = scorecardRows
        }

        package mutating func add(_ o: Deleted) {
            cases += o.cases
            events += o.events
            clocks += o.clocks
            decisions += o.decisions
            scorecardRows += o.scorecardRows
        }
    }

    /// Deletes one batch of cases closed before `cutoff`, with their events, clocks, SLA
    /// decisions and scorecard rows, in one statement. A case whose row is locked (the intake
    /// writing a late event to it) waits for the next batch.
    package static func deleteClosedCases(before cutoff: String, db: PostgresConnection) throws -> Deleted {
        let r = try db.query(
            """
            WITH gone AS (
                DELETE FROM cases WHERE case_id IN (
                    SELECT case_id FROM cases
                    WHERE status IN ('CLOSED', 'WITHDRAWN') AND closed_at < $1::timestamptz
                    ORDER BY case_id LIMIT \(batchRows) FOR UPDATE SKIP LOCKED)
                AND status IN ('CLOSED', 'WITHDRAWN')
                RETURNING case_id),
            e AS (DELETE FROM case_events WHERE case_id IN (SELECT case_id FROM gone) RETURNING 1),
            c AS (DELETE FROM case_clocks WHERE case_id IN (SELECT case_id FROM gone) RETURNING 1),
            d AS (DELETE FROM sla_decisions WHERE case_id IN (SELECT case_id FROM gone) RETURNING 1),
            h AS (DELETE FROM scorecard_handlings WHERE case_id IN (SELECT case_id FROM gone) RETURNING 1),
            q AS (DELETE FROM scorecard_dirty WHERE case_id IN (SELECT case_id FROM gone) RETURNING 1)
            SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM e), (SELECT count(*) FROM c),
                   (SELECT count(*) FROM d), (SELECT count(*) FROM h) + (SELECT count(*) FROM q)
            """, [cutoff], context: "delete closed cases")
        return Deleted(
            cases: r.int(0, 0) ?? 0, events: r.int(0, 1) ?? 0, clocks: r.int(0, 2) ?? 0, decisions: r.int(0, 3) ?? 0,
            scorecardRows: r.int(0, 4) ?? 0)
    }
}
