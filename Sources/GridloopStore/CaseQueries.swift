import GridloopCore
import GridloopPostgres

/// The reads of `gridloopd case show`: a case, its events, its clocks and the events the ladder
/// emitted for it. Rows in the column order each function's comment gives; `CaseView` (in
/// GridloopViews) reads them and formats.
package enum CaseQueries {
    private static func t(_ column: String) -> String { TimeSQL.t(column) }

    /// The case's row, or no row: case_id, source, order_no, status, level, unit_code, unit_name,
    /// urgency, category_name, category_code, then accept_time, assigned_at, signed_at,
    /// replied_at, closed_at, suspended_since (RFC 3339), extension_days, replied_level, gap_count,
    /// channel.
    package static func caseRow(caseId: String, from db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            SELECT case_id, source, order_no, status, level, unit_code, unit_name, urgency, category_name,
                   category_code, \(t("accept_time")), \(t("assigned_at")), \(t("signed_at")), \(t("replied_at")),
                   \(t("closed_at")), \(t("suspended_since")), extension_days, replied_level, gap_count, channel
            FROM cases WHERE case_id = $1
            """, [caseId], context: "read case")
    }

    /// The case's state as the intake keeps it, or nil: what `units resolve` resolves from.
    package static func state(caseId: String, from db: PostgresConnection) throws -> CaseState? {
        let rows = try db.query(
            "SELECT \(CaseRow.selectList) FROM cases WHERE case_id = $1", [caseId], context: "read case state")
        return rows.count == 1 ? try CaseRow.read(rows, row: 0) : nil
    }

    /// The case's events in order: event_no, type, event_time (RFC 3339), event_key, sequence,
    /// gap_before, level, unit_code, result, days, satisfaction, topic, partition, offset.
    package static func events(caseId: String, from db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            SELECT event_no, type, \(t("event_time")), event_key, sequence, gap_before, level, unit_code, result,
                   days, satisfaction, topic, partition, "offset"
            FROM case_events WHERE case_id = $1 ORDER BY event_no
            """, [caseId], context: "read case events")
    }

    /// The case's clock (its JSON), or no row.
    package static func clock(caseId: String, from db: PostgresConnection) throws -> PostgresRows {
        try db.query("SELECT clock FROM case_clocks WHERE case_id = $1", [caseId], context: "read clocks")
    }

    /// The events the ladder emitted for the case, in the order they were decided: id, type,
    /// level, to_level, decided_at (RFC 3339), topic, published (`t` once the relay published it),
    /// unit_code (who held the case), to_unit_code, to_unit_name, resolved_by (escalations).
    package static func emitted(caseId: String, from db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            SELECT d.id, d.type, d.level, d.to_level, \(t("d.decided_at")), coalesce(d.topic, o.topic), o.seq IS NULL,
                   d.unit_code, d.to_unit_code, d.to_unit_name, d.resolved_by
            FROM sla_decisions d LEFT JOIN outbox o ON o.id = d.id
            WHERE d.case_id = $1
            ORDER BY d.decided_at, CASE d.type WHEN 'gridloop.case.supervision.warning' THEN 1
                WHEN 'gridloop.case.supervision.overdue' THEN 2 WHEN 'gridloop.case.supervision.urge' THEN 3
                WHEN 'gridloop.case.escalated' THEN 4 ELSE 5 END, d.id
            """, [caseId], context: "read emitted events")
    }
}
