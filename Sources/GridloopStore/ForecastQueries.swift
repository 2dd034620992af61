import GridloopPostgres

/// What the at-risk forecast reads (docs/FORECAST.md): the handlings of a stretch of history,
/// with when each was signed, replied to and ended, and the clocks open at an instant. Instants
/// are epoch milliseconds; the caller brings `scorecard_handlings` up to date first
/// (`ScorecardQueries.drain`).
package enum ForecastQueries {
    /// The handlings that began in [`from`, `until`), the latest `limit` of them, in pages of
    /// `pageSize` rows (a cursor): level, unit_code, category_code, source, urgency, began,
    /// signed, replied, ended (null when it has not happened). The limit bounds the forecast's
    /// memory (`forecast.historyMaxHandlings`), the page the rows held at once.
    package static func handlings(
        from: Int64, until: Int64, limit: Int, pageSize: Int, db: PostgresConnection, _ page: (PostgresRows) throws -> Void
    ) throws {
        try PagedRead.each(
            """
            SELECT h.level, h.unit_code, coalesce(c.category_code, split_part(c.category_name, '/', 1)), c.source, c.urgency,
                   \(TimeSQL.millis("h.began_at")), \(TimeSQL.millis("h.signed_at")), \(TimeSQL.millis("h.replied_at")), \(TimeSQL.millis("h.ended_at"))
            FROM scorecard_handlings h JOIN cases c USING (case_id)
            WHERE h.began_at >= to_timestamp($1::bigint / 1000.0) AND h.began_at < to_timestamp($2::bigint / 1000.0)
            ORDER BY h.began_at DESC LIMIT $3
            """, [String(from), String(until), String(limit)], pageSize: pageSize, context: "forecast handlings", db: db,
            page)
    }

    /// The handlings open at `at` (began at or before it, not ended by it): case_id, level,
    /// unit_code, category_code, source, urgency, began, signed, replied (as in `handlings`), in
    /// pages of `pageSize` rows.
    package static func openAt(
        _ at: Int64, pageSize: Int, db: PostgresConnection, _ page: (PostgresRows) throws -> Void
    ) throws {
        try PagedRead.each(
            """
            SELECT h.case_id, h.level, h.unit_code, coalesce(c.category_code, split_part(c.category_name, '/', 1)), c.source, c.urgency,
                   \(TimeSQL.millis("h.began_at")), \(TimeSQL.millis("h.signed_at")), \(TimeSQL.millis("h.replied_at"))
            FROM scorecard_handlings h JOIN cases c USING (case_id)
            WHERE h.began_at <= to_timestamp($1::bigint / 1000.0)
              AND (h.ended_at IS NULL OR h.ended_at > to_timestamp($1::bigint / 1000.0))
              AND (h.replied_at IS NULL OR h.replied_at > to_timestamp($1::bigint / 1000.0))
            ORDER BY h.case_id
            """, [String(at)], pageSize: pageSize, context: "forecast clocks open then", db: db, page)
    }

    /// The clocks open now, as the daemon keeps them, that may fall due by `dueBy` (epoch ms),
    /// in pages of `pageSize` rows (a cursor): case_id, the clock (JSON), unit_code,
    /// category_code, source, urgency. A clock's next due instant (`next_due`: its warning,
    /// deadline or next urge) is never after the deadline of a limit not yet overdue, so
    /// `next_due <= dueBy` keeps every clock with such a deadline by then, and leaves out the
    /// many due later: what the forecast reads grows with the clocks due in its window, not
    /// with the open cases.
    package static func openClocks(
        dueBy: Int64, pageSize: Int, db: PostgresConnection, _ page: (PostgresRows) throws -> Void
    ) throws {
        try PagedRead.each(
            """
            WITH RECURSIVE \(DueIndex.partitions)
            SELECT k.case_id, k.clock::text, c.unit_code, coalesce(c.category_code, split_part(c.category_name, '/', 1)), c.source, c.urgency
            FROM p CROSS JOIN LATERAL (
                SELECT d.case_id, d.clock FROM case_clocks d
                WHERE d.topic = p.topic AND d.partition = p.partition AND d.next_due IS NOT NULL
                  AND d.next_due <= to_timestamp($1::bigint / 1000.0)) k
            JOIN cases c USING (case_id)
            """, [String(dueBy)], pageSize: pageSize, context: "forecast open clocks", db: db, page)
    }

    /// The names of units, as the scorecard gives them (the most frequent).
    package static func unitNames(codes: [String], db: PostgresConnection) throws -> [String: String] {
        let rows = try ScorecardQueries.unitNames(codes: codes, db: db)
        var names: [String: String] = [:]
        for i in 0..<rows.count {
            if let code = rows.string(i, 0), let name = rows.string(i, 1) { names[code] = name }
        }
        return names
    }
}
