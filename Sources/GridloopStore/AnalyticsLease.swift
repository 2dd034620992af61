import GridloopPostgres

/// The lease on a consumer group's analytics (docs/ARCHITECTURE.md, "Analytics: once per
/// group"): a session-level advisory lock of the group. The session that takes it holds it
/// until it ends, and PostgreSQL ends it when its process dies (the socket closes; across a
/// dead network, when the keepalives give up, `DatabaseDefaults`), so a survivor's next try
/// takes it over. The holder runs its rounds on that same session: a round that fails has
/// lost the lease with its connection, and nothing runs without it.
package enum AnalyticsLease {
    /// Takes the lease if no other session holds it; true when this session holds it now. Call
    /// it only while not holding it (an advisory lock taken twice is held twice).
    package static func tryTake(group: String, db: PostgresConnection) throws -> Bool {
        try db.query(
            "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", ["gridloop-analytics/\(group)"],
            context: "take the analytics lease"
        ).string(0, 0) == "t"
    }

    /// What the engine has in hand, for the analytics to yield to (`ScorecardTask`): the clocks
    /// due and not fired (counted up to `dueClocks` + 1), the rows waiting in the outbox (up to
    /// `outboxRows` + 1), the sum of the stored intake offsets (every group's: how far the
    /// intake has applied; its rise between two calls is the intake's rate) and the outbox's
    /// sequence (its rise: the events and dead letters written, by the intake and the firing).
    /// Two index reads of at most those many entries, the few offset rows and the sequence.
    package static func engineLoad(
        dueClocks: Int, outboxRows: Int, db: PostgresConnection
    ) throws -> (dueClocks: Int, outboxRows: Int, appliedOffsets: Int64, outboxWritten: Int64) {
        let r = try db.query(
            """
            WITH RECURSIVE \(DueIndex.partitions)
            SELECT (SELECT count(*) FROM (
                        SELECT 1 FROM p CROSS JOIN LATERAL (
                            SELECT 1 FROM case_clocks c
                            WHERE c.topic = p.topic AND c.partition = p.partition AND c.next_due IS NOT NULL
                              AND c.next_due <= now() LIMIT $1::int + 1) d LIMIT $1::int + 1) due),
                   (SELECT count(*) FROM (SELECT 1 FROM outbox LIMIT $2::int + 1) o),
                   (SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE next_offset >= 0),
                   (SELECT last_value FROM outbox_seq_seq)
            """, [String(dueClocks), String(outboxRows)], context: "the engine's load")
        return (r.int(0, 0) ?? 0, r.int(0, 1) ?? 0, r.int64(0, 2) ?? 0, r.int64(0, 3) ?? 0)
    }
}
