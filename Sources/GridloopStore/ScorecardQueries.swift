import GridloopPostgres

/// The counts of `gridloopd report scorecard`: per level and unit, over the handlings that began
/// from `from` to `to` (`YYYY-MM-DD`, Asia/Shanghai, inclusive). Every term is defined in
/// docs/SCORECARD.md; `Scorecard` (in GridloopInspect) computes the rates, composite and ranks.
package enum ScorecardQueries {
    /// One statement, set-based: each case's timeline (events, overdue decisions, escalations) in
    /// the order SCORECARD.md gives, numbered into handlings and replies by running counts; then
    /// one row per handling and one per reply's aftermath, grouped by unit.
    static let countsSQL = """
        WITH bounds AS (
            SELECT ($1::date::timestamp AT TIME ZONE 'Asia/Shanghai') AS lo,
                   (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai') AS hi),
        -- The cases with a handling that began in the period, less the withdrawn.
        scope AS (
            SELECT case_id FROM case_events, bounds
            WHERE type IN ('DISPATCH', 'REDISPATCH') AND event_time >= lo AND event_time < hi
            UNION
            SELECT case_id FROM sla_decisions, bounds
            WHERE type = 'gridloop.case.escalated' AND decided_at >= lo AND decided_at < hi
            EXCEPT
            SELECT case_id FROM case_events WHERE type = 'WITHDRAW'),
        timeline AS (
            SELECT e.case_id, e.event_time AS t, 0 AS r, e.event_no AS n, '' AS id, e.type, e.level, e.unit_code,
                   e.result, e.satisfaction, NULL::text AS clock
            FROM case_events e JOIN scope USING (case_id)
            UNION ALL
            SELECT d.case_id, d.decided_at, CASE WHEN d.type = 'gridloop.case.escalated' THEN 2 ELSE 1 END, 0, d.id,
                   CASE WHEN d.type = 'gridloop.case.escalated' THEN 'ESCALATED' ELSE 'OVERDUE' END,
                   d.to_level, d.to_unit_code, NULL, NULL, d.clock
            FROM sla_decisions d JOIN scope USING (case_id)
            WHERE d.type IN ('gridloop.case.supervision.overdue', 'gridloop.case.escalated')),
        numbered AS (
            SELECT tl.*,
                   count(*) FILTER (WHERE type IN ('DISPATCH', 'REDISPATCH', 'ESCALATED')) OVER w AS h,
                   count(*) FILTER (WHERE type = 'REPLY') OVER w AS rp
            FROM timeline tl
            WINDOW w AS (PARTITION BY case_id ORDER BY t, r, n, id ROWS UNBOUNDED PRECEDING)),
        handlings AS (
            SELECT case_id, h, t AS began, level, unit_code,
                   lead(type) OVER c AS next_type, lead(unit_code) OVER c AS next_unit, lead(clock) OVER c AS next_clock
            FROM numbered WHERE type IN ('DISPATCH', 'REDISPATCH', 'ESCALATED')
            WINDOW c AS (PARTITION BY case_id ORDER BY h)),
        facts AS (
            SELECT case_id, h,
                   bool_or(type = 'SIGN') AS signed, bool_or(type = 'REPLY') AS replied,
                   bool_or(type = 'RETURN') AS returned,
                   bool_or(type = 'OVERDUE' AND clock = 'SIGN') AS sign_overdue,
                   bool_or(type = 'OVERDUE' AND clock = 'HANDLE') AS handle_overdue,
                   max(rp) FILTER (WHERE type = 'REPLY') AS last_reply
            FROM numbered WHERE h > 0 GROUP BY case_id, h),
        -- Each reply and what followed it up to the case's next reply.
        aftermath AS (
            SELECT case_id, rp,
                   min(h) FILTER (WHERE type = 'REPLY') AS h,
                   min(result) FILTER (WHERE type = 'REPLY') AS result,
                   bool_or(type = 'REOPEN' OR (type = 'VISIT' AND satisfaction = 'UNSATISFIED')) AS reopened,
                   count(*) FILTER (WHERE type = 'VISIT' AND satisfaction <> 'UNREACHABLE') AS callbacks,
                   count(*) FILTER (WHERE type = 'VISIT' AND satisfaction IN ('SATISFIED', 'BASICALLY_SATISFIED')) AS satisfied,
                   (array_agg(satisfaction ORDER BY t DESC, r DESC, n DESC, id DESC)
                       FILTER (WHERE type = 'VISIT' AND satisfaction <> 'UNREACHABLE'))[1] AS last_callback
            FROM numbered WHERE rp > 0 GROUP BY case_id, rp),
        replies AS (
            SELECT case_id, h, count(*) AS replies, count(*) FILTER (WHERE reopened) AS reopened,
                   sum(callbacks) AS callbacks, sum(satisfied) AS satisfied
            FROM aftermath GROUP BY case_id, h),
        per AS (
            SELECT hd.level, hd.unit_code, f.signed, f.replied, f.returned, f.sign_overdue, f.handle_overdue,
                   (hd.next_type IS NOT NULL OR c.status = 'CLOSED') AS ended,
                   (f.returned AND hd.next_type = 'REDISPATCH' AND hd.next_unit IS DISTINCT FROM hd.unit_code) AS accepted,
                   (hd.next_type = 'ESCALATED' AND hd.next_clock IN ('SIGN_OVERDUE', 'HANDLE_OVERDUE')) AS away,
                   coalesce(rs.replies, 0) AS replies, coalesce(rs.reopened, 0) AS reopened,
                   coalesce(rs.callbacks, 0) AS callbacks, coalesce(rs.satisfied, 0) AS satisfied,
                   la.last_callback IS NOT NULL AS resolution_base,
                   (la.result = 'RESOLVED' AND la.last_callback IN ('SATISFIED', 'BASICALLY_SATISFIED')) AS resolved
            FROM handlings hd
            JOIN facts f USING (case_id, h)
            JOIN cases c USING (case_id)
            LEFT JOIN replies rs USING (case_id, h)
            LEFT JOIN aftermath la ON la.case_id = hd.case_id AND la.rp = f.last_reply
            , bounds
            WHERE hd.began >= bounds.lo AND hd.began < bounds.hi)
        SELECT level, unit_code,
               count(*) AS assigned,
               count(*) FILTER (WHERE NOT accepted) AS evaluated,
               count(*) FILTER (WHERE returned) AS returned,
               count(*) FILTER (WHERE accepted) AS returned_elsewhere,
               count(*) FILTER (WHERE NOT accepted AND signed AND NOT sign_overdue) AS responded,
               count(*) FILTER (WHERE NOT accepted AND (signed OR sign_overdue OR ended)) AS response_base,
               count(*) FILTER (WHERE NOT accepted AND replied AND NOT handle_overdue) AS on_time,
               count(*) FILTER (WHERE NOT accepted AND (replied OR handle_overdue OR ended)) AS on_time_base,
               count(*) FILTER (WHERE NOT accepted AND (sign_overdue OR handle_overdue)) AS overdue,
               count(*) FILTER (WHERE away) AS escalated_away,
               count(*) FILTER (WHERE resolution_base) AS resolution_base,
               count(*) FILTER (WHERE resolution_base AND resolved) AS resolved,
               sum(callbacks) AS callbacks, sum(satisfied) AS satisfied,
               sum(replies) AS replies, sum(reopened) AS reopened
        FROM per
        GROUP BY level, unit_code
        ORDER BY level, unit_code
        """

    /// One row per (level, unit code) with a handling in the period: level, unit_code, assigned,
    /// evaluated, returned, returned_elsewhere, responded, response_base, on_time, on_time_base,
    /// overdue, escalated_away, resolution_base, resolved, callbacks, satisfied, replies, reopened.
    package static func counts(from: String, to: String, db: PostgresConnection) throws -> PostgresRows {
        try db.query(countsSQL, [from, to], context: "scorecard counts")
    }

    /// Code and name of each unit of `codes`: the most frequent name the unit goes by, among the
    /// cases it holds now, the escalations it received and what the feeds taught (`learned_units`).
    package static func unitNames(codes: [String], db: PostgresConnection) throws -> PostgresRows {
        try db.query(
            """
            SELECT code, mode() WITHIN GROUP (ORDER BY name) FROM (
                SELECT unit_code AS code, unit_name AS name FROM cases WHERE unit_code = ANY($1::text[])
                UNION ALL
                SELECT to_unit_code, to_unit_name FROM sla_decisions
                WHERE type = 'gridloop.case.escalated' AND to_unit_code = ANY($1::text[])
                UNION ALL
                SELECT unit_code, unit_name FROM learned_units WHERE unit_code = ANY($1::text[])) n
            WHERE name IS NOT NULL AND name <> ''
            GROUP BY code
            """, [PostgresArray.text(codes)], context: "scorecard unit names")
    }
}
