import GridloopCore
import GridloopPostgres

/// What the at-risk forecast reads (docs/FORECAST.md): the handlings of a stretch of history,
/// with when each was signed, replied to and ended, and the clocks open at an instant. Instants
/// are epoch milliseconds; the caller brings `scorecard_handlings` up to date first
/// (`ScorecardQueries.drain`).
package enum ForecastQueries {
    /// A handling of the history: who held it, what kind of case, and its instants (nil: it had
    /// not happened by the time of the read).
    package struct Handling: Sendable {
        package var level: LoopLevel
        package var unitCode: String
        /// The category's code, or its first part's name for 12319 (no codes).
        package var category: String
        package var source: CaseSource
        package var urgency: Urgency
        package var began: Int64
        package var signed, replied, ended: Int64?
    }

    /// A handling open at an instant, with its case.
    package struct OpenHandling: Sendable {
        package var caseId: String
        package var handling: Handling
    }

    /// A clock as the daemon keeps it, with what the forecast needs of its case.
    package struct OpenClock: Sendable {
        package var caseId: String
        package var clock: CaseClock
        package var unitCode: String
        package var category: String
    }

    /// A row's handling from `level` at `column` on (level, unit_code, category, source, urgency,
    /// began, signed, replied, then ended when `withEnd`); nil when the row cannot be read.
    private static func handling(_ r: PostgresRows, _ i: Int, from c: Int, withEnd: Bool) -> Handling? {
        guard let level = r.string(i, c).flatMap(LoopLevel.init(rawValue:)), let unitCode = r.string(i, c + 1),
            let began = r.int64(i, c + 5)
        else { return nil }
        return Handling(
            level: level, unitCode: unitCode, category: r.string(i, c + 2) ?? "",
            source: r.string(i, c + 3).flatMap(CaseSource.init(rawValue:)) ?? .hotline12345,
            urgency: r.string(i, c + 4).flatMap(Urgency.init(rawValue:)) ?? .normal, began: began,
            signed: r.int64(i, c + 6), replied: r.int64(i, c + 7), ended: withEnd ? r.int64(i, c + 8) : nil)
    }

    /// The handlings that began in [`from`, `until`), the latest `limit` of them, in pages of
    /// `pageSize` rows (a cursor; a row that cannot be read is left out). The limit bounds the
    /// forecast's memory (`forecast.historyMaxHandlings`), the page the rows held at once.
    package static func handlings(
        from: Int64, until: Int64, limit: Int, pageSize: Int, db: PostgresConnection, _ page: ([Handling]) throws -> Void
    ) throws {
        try PagedRead.each(
            """
            SELECT h.level, h.unit_code, coalesce(c.category_code, split_part(c.category_name, '/', 1)), c.source, c.urgency,
                   \(TimeSQL.millis("h.began_at")), \(TimeSQL.millis("h.signed_at")), \(TimeSQL.millis("h.replied_at")), \(TimeSQL.millis("h.ended_at"))
            FROM scorecard_handlings h JOIN cases c USING (case_id)
            WHERE h.began_at >= to_timestamp($1::bigint / 1000.0) AND h.began_at < to_timestamp($2::bigint / 1000.0)
            ORDER BY h.began_at DESC LIMIT $3
            """, [String(from), String(until), String(limit)], pageSize: pageSize, context: "forecast handlings", db: db
        ) { r in try page((0..<r.count).compactMap { handling(r, $0, from: 0, withEnd: true) }) }
    }

    /// The handlings open at `at` (began at or before it, not ended by it, not replied to by it),
    /// in pages of `pageSize` rows.
    package static func openAt(
        _ at: Int64, pageSize: Int, db: PostgresConnection, _ page: ([OpenHandling]) throws -> Void
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
            """, [String(at)], pageSize: pageSize, context: "forecast clocks open then", db: db
        ) { r in
            try page(
                (0..<r.count).compactMap { i in
                    guard let caseId = r.string(i, 0), let h = handling(r, i, from: 1, withEnd: false) else { return nil }
                    return OpenHandling(caseId: caseId, handling: h)
                })
        }
    }

    /// The clocks open now, as the daemon keeps them, that may fall due by `dueBy` (epoch ms),
    /// in pages of `pageSize` rows (a cursor; a closed clock, or one that cannot be read, is
    /// left out). A clock's next due instant (`next_due`: its warning,
    /// deadline or next urge) is never after the deadline of a limit not yet overdue, so
    /// `next_due <= dueBy` keeps every clock with such a deadline by then, and leaves out the
    /// many due later: what the forecast reads grows with the clocks due in its window, not
    /// with the open cases.
    package static func openClocks(
        dueBy: Int64, pageSize: Int, db: PostgresConnection, _ page: ([OpenClock]) throws -> Void
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
            """, [String(dueBy)], pageSize: pageSize, context: "forecast open clocks", db: db
        ) { r in
            try page(
                (0..<r.count).compactMap { i in
                    guard let caseId = r.string(i, 0), let text = r.string(i, 1),
                        let clock = try? CaseClock(jsonText: text), !clock.closed
                    else { return nil }
                    return OpenClock(caseId: caseId, clock: clock, unitCode: r.string(i, 2) ?? "", category: r.string(i, 3) ?? "")
                })
        }
    }
}
