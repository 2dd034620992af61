import GridloopPostgres

/// The counts behind `/readyz` and the gauges the health probe refreshes, and `status`'s open
/// cases. Each takes the probe's deadline (`timeout`): a query on a server that stopped answering
/// must not hold the probe for ever.
package enum HealthQueries {
    /// `SELECT 1`.
    package static func ping(_ db: PostgresConnection, timeout: Duration) throws {
        try db.query("SELECT 1", timeout: timeout, context: "health check")
    }

    /// The open cases (neither closed nor withdrawn) per level; reads every row of `cases`.
    /// Without `timeout`, the session's `statement_timeout` applies.
    package static func openCasesByLevel(_ db: PostgresConnection, timeout: Duration? = nil) throws -> [String: Int] {
        let sql = """
            SELECT level, count(*) FROM cases WHERE status NOT IN ('CLOSED', 'WITHDRAWN') GROUP BY level
            """
        let open =
            try timeout.map { try db.query(sql, timeout: $0, context: "count open cases") }
            ?? db.query(sql, context: "count open cases")
        var byLevel: [String: Int] = [:]
        for i in 0..<open.count { byLevel[open.string(i, 0) ?? "?"] = open.int(i, 1) ?? 0 }
        return byLevel
    }

    /// The rows in the outbox and the age of the oldest in seconds (0 when empty).
    package static func outboxBacklog(_ db: PostgresConnection, timeout: Duration) throws -> (rows: Int, oldestSeconds: Double) {
        let outbox = try db.query(
            """
            SELECT count(*), COALESCE(extract(epoch FROM now() - min(created_at)), 0)::float8
            FROM outbox
            """, timeout: timeout, context: "count the outbox backlog")
        return (outbox.int(0, 0) ?? 0, Double(outbox.string(0, 1) ?? "0") ?? 0)
    }

    /// The clocks due and not fired yet, and how many seconds ago the oldest of them fell due
    /// (0 when none is due).
    package static func timersDue(_ db: PostgresConnection, timeout: Duration) throws -> (count: Int, oldestSeconds: Double) {
        // Per partition, a range of the due-clock index (`case_clocks_due_keyset`), the partitions
        // found by skipping through the same index, one descent each: `next_due <= now()` alone
        // reads every clock.
        let due = try db.query(
            """
            WITH RECURSIVE \(DueIndex.partitions)
            SELECT COALESCE(sum(d.n), 0)::bigint,
                   COALESCE(extract(epoch FROM now() - min(d.oldest)), 0)::float8
            FROM p CROSS JOIN LATERAL (
                SELECT count(*) AS n, min(c.next_due) AS oldest FROM case_clocks c
                WHERE c.topic = p.topic AND c.partition = p.partition AND c.next_due IS NOT NULL AND c.next_due <= now()) d
            """, timeout: timeout, context: "count due timers")
        return (due.int(0, 0) ?? 0, Double(due.string(0, 1) ?? "0") ?? 0)
    }
}
