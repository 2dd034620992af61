import GridloopPostgres

/// What `gridloopd whatif` replays (docs/WHATIF.md): the cases dispatched in a period (their
/// first applied event, a DISPATCH, from `from` to `to`, `YYYY-MM-DD` Asia/Shanghai, inclusive),
/// every event applied to them in the order applied, and the decisions stored for them. Instants
/// are epoch milliseconds. Three statements, each one pass.
package enum ReplayQueries {
    private static let picked = """
        picked AS MATERIALIZED (
            SELECT case_id FROM case_events
            WHERE event_no = 1
              AND event_time >= ($1::date::timestamp AT TIME ZONE 'Asia/Shanghai')
              AND event_time < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'))
        """

    /// case_id, source, order_no, unit_name, channel, appeal_type, category_code, category_name,
    /// urgency, accept_time, district_code, street_code, community_code, grid_code,
    /// platform_sign_hours, platform_handle_days, platform_deadline, repeat_of, and the policy
    /// version and version history its clock records (null: none); by case_id.
    package static func cases(from: String, to: String, db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            WITH \(picked)
            SELECT c.case_id, c.source, c.order_no, c.unit_name, c.channel, c.appeal_type, c.category_code, c.category_name,
                   c.urgency, \(TimeSQL.millis("c.accept_time")), c.district_code, c.street_code, c.community_code, c.grid_code,
                   c.platform_sign_hours, c.platform_handle_days, \(TimeSQL.millis("c.platform_deadline")), c.repeat_of,
                   k.clock::jsonb ->> 'policyVersion', k.clock::jsonb ->> 'policyHistory'
            FROM cases c JOIN picked USING (case_id) LEFT JOIN case_clocks k USING (case_id)
            ORDER BY c.case_id
            """, [from, to], context: "replay: the period's cases")
    }

    /// case_id, type, event_time, event_key, sequence, gap_before, level, unit_code, result,
    /// days, satisfaction, topic, partition; by case_id and the order applied.
    package static func events(from: String, to: String, db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            WITH \(picked)
            SELECT e.case_id, e.type, \(TimeSQL.millis("e.event_time")), e.event_key, e.sequence, e.gap_before, e.level, e.unit_code,
                   e.result, e.days, e.satisfaction, e.topic, e.partition
            FROM case_events e JOIN picked USING (case_id)
            ORDER BY e.case_id, e.event_no
            """, [from, to], context: "replay: the period's events")
    }

    /// id, case_id, type, decided_at: the decisions stored for the period's cases.
    package static func decisions(from: String, to: String, db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            WITH \(picked)
            SELECT d.id, d.case_id, d.type, \(TimeSQL.millis("d.decided_at"))
            FROM sla_decisions d JOIN picked USING (case_id)
            ORDER BY d.case_id, d.decided_at, d.id
            """, [from, to], context: "replay: the period's stored decisions")
    }
}
