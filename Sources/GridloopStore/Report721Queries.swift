import GridloopPostgres

/// The counts of `gridloopd report 721` over the cases closed from `from` to `to` (`YYYY-MM-DD`,
/// Asia/Shanghai, inclusive); `Report721` (in GridloopEvaluation) computes the shares and formats.
package enum Report721Queries {
    /// The counted cases, with their resolving level; `overdue` and `handled`: (case, level) pairs.
    static let cohortSQL = """
        WITH cohort AS (
            SELECT case_id, replied_level AS resolved_level, category_name, street_code, community_code
            FROM cases
            WHERE status = 'CLOSED' AND replied_level IS NOT NULL
              AND closed_at >= ($1::date::timestamp AT TIME ZONE 'Asia/Shanghai')
              AND closed_at < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')),
        overdue AS (
            SELECT DISTINCT d.case_id, d.level FROM sla_decisions d JOIN cohort USING (case_id)
            WHERE d.type = 'gridloop.case.supervision.overdue'),
        handled AS (
            SELECT DISTINCT case_id, level FROM (
                SELECT e.case_id, e.level FROM case_events e JOIN cohort USING (case_id)
                WHERE e.type IN ('DISPATCH', 'REDISPATCH') AND e.level IS NOT NULL
                UNION ALL
                SELECT d.case_id, d.to_level FROM sla_decisions d JOIN cohort USING (case_id)
                WHERE d.type = 'gridloop.case.escalated'
                UNION ALL
                SELECT case_id, resolved_level FROM cohort) h)
        """

    /// A level's part in the period's cohort.
    package struct LevelCounts: Sendable {
        package var level: String
        /// Cases resolved there, cases handled there, cases overdue there.
        package var resolved, handled, overdue: Int
    }

    /// One per level.
    package static func byLevel(from: String, to: String, db: PostgresConnection) throws -> [LevelCounts] {
        let r = try db.query(
            cohortSQL + """
                , levels(level) AS (SELECT unnest(ARRAY['ESTATE', 'COMMUNITY', 'STREET', 'DISTRICT']))
                SELECT l.level,
                       (SELECT count(*) FROM cohort c WHERE c.resolved_level = l.level),
                       (SELECT count(*) FROM handled h WHERE h.level = l.level),
                       (SELECT count(*) FROM overdue o WHERE o.level = l.level)
                FROM levels l
                """, [from, to], context: "721 by level")
        let t = "721 by level"
        return try (0..<r.count).map {
            LevelCounts(
                level: try r.string($0, 0, in: t), resolved: try r.int($0, 1, in: t), handled: try r.int($0, 2, in: t),
                overdue: try r.int($0, 3, in: t))
        }
    }

    /// The cohort's cases with an overdue at any level, and its cases with clocks.
    package static func totals(from: String, to: String, db: PostgresConnection) throws -> (overdue: Int, withClocks: Int) {
        let r = try db.query(
            cohortSQL + """
                SELECT (SELECT count(DISTINCT case_id) FROM overdue),
                       (SELECT count(*) FROM cohort c WHERE EXISTS (SELECT 1 FROM case_clocks k WHERE k.case_id = c.case_id))
                """, [from, to], context: "721 totals")
        return (r.int(0, 0) ?? 0, r.int(0, 1) ?? 0)
    }

    /// The cohort's cases with one value of a column.
    package struct GroupCounts: Sendable {
        /// The value ('(none)' for null).
        package var key: String
        /// Cases, resolved at estate or community, at street, at district, overdue.
        package var cases, estateCommunity, street, district, overdue: Int
    }

    /// One per value of `column` of `cases` (`category_name`, `street_code` or `community_code`;
    /// a column name, not a value), most cases first.
    package static func groups(_ column: String, from: String, to: String, db: PostgresConnection) throws -> [GroupCounts] {
        let r = try db.query(
            cohortSQL + """
                SELECT coalesce(c.\(column), '(none)'), count(*),
                       count(*) FILTER (WHERE c.resolved_level IN ('ESTATE', 'COMMUNITY')),
                       count(*) FILTER (WHERE c.resolved_level = 'STREET'),
                       count(*) FILTER (WHERE c.resolved_level = 'DISTRICT'),
                       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM overdue o WHERE o.case_id = c.case_id))
                FROM cohort c
                GROUP BY 1 ORDER BY 2 DESC, 1
                """, [from, to], context: "721 by \(column)")
        let t = "721 by \(column)"
        return try (0..<r.count).map {
            GroupCounts(
                key: try r.string($0, 0, in: t), cases: try r.int($0, 1, in: t), estateCommunity: try r.int($0, 2, in: t),
                street: try r.int($0, 3, in: t), district: try r.int($0, 4, in: t), overdue: try r.int($0, 5, in: t))
        }
    }

    /// Code and name of each unit of `codes` in `column` (`street_code`, `community_code`): the
    /// most frequent unit name among the cases dispatched at `level` to their current unit
    /// (see `Report721.unitNames`).
    package static func unitNames(column: String, level: String, codes: [String], db: PostgresConnection) throws -> [String:
        String]
    {
        let r = try db.query(
            """
            SELECT c.\(column), mode() WITHIN GROUP (ORDER BY c.unit_name) FROM cases c
            WHERE c.\(column) = ANY($2::text[]) AND c.unit_name <> ''
              AND EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.case_id AND e.type IN ('DISPATCH', 'REDISPATCH')
                          AND e.level = $1 AND e.unit_code = c.unit_code)
            GROUP BY 1
            """, [level, PostgresArray.text(codes)], context: "721 unit names")
        var names: [String: String] = [:]
        for i in 0..<r.count { if let code = r.string(i, 0), let name = r.string(i, 1) { names[code] = name } }
        return names
    }
}
