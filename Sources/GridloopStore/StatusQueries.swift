import GridloopPostgres

/// The reads of `gridloopd status`; `StatusView` (in GridloopViews) adds what the brokers say
/// and formats.
package enum StatusQueries {
    private static func t(_ column: String) -> String { TimeSQL.t(column) }

    /// The committed offsets of `consumerGroup`: topic, partition, next_offset (-2: nothing
    /// committed yet), updated_at (RFC 3339).
    package static func offsets(consumerGroup: String, from db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            SELECT topic, partition, next_offset, \(t("updated_at")) FROM consumer_offsets
            WHERE consumer_group = $1 ORDER BY topic, partition
            """, [consumerGroup], context: "read consumer offsets")
    }

    /// One row: the outbox backlog, the age of its oldest row in seconds, the clocks due, the dead
    /// letters since 00:00 today (Asia/Shanghai), those not re-driven, and now (RFC 3339).
    package static func counts(from db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            SELECT (SELECT count(*) FROM outbox),
                   (SELECT extract(epoch FROM now() - min(created_at))::float8 FROM outbox),
                   (SELECT count(*) FROM case_clocks WHERE next_due <= now()),
                   (SELECT count(*) FROM dead_letters
                     WHERE created_at >= (date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai')),
                   (SELECT count(*) FROM dead_letters WHERE retried_at IS NULL),
                   \(t("now()"))
            """, context: "read status")
    }

    /// The earliest clock due and not fired: next_due (RFC 3339), case_id, and the case's
    /// assignee (unit_code, unit_name: the unit that must act); or no row.
    package static func oldestDue(from db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            SELECT \(t("k.next_due")), k.case_id, c.unit_code, c.unit_name
            FROM case_clocks k LEFT JOIN cases c ON c.case_id = k.case_id
            WHERE k.next_due <= now() ORDER BY k.next_due LIMIT 1
            """, context: "read the oldest due clock")
    }
}
