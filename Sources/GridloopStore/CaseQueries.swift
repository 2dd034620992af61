import GridloopCore
import GridloopPostgres

/// The reads of `gridloopd case show`: a case, its events, its clocks and the events the ladder
/// emitted for it, each as a row type of its own; `CaseView` (in GridloopViews) formats them.
package enum CaseQueries {
    private static func t(_ column: String) -> String { TimeSQL.t(column) }

    /// A case's row as `case show` prints it (times RFC 3339).
    package struct CaseRecord: Sendable {
        package var caseId, source, orderNo, status, level, unitCode, unitName, urgency, categoryName: String
        package var categoryCode, channel: String?
        package var acceptTime, assignedAt: String
        package var signedAt, repliedAt, closedAt, suspendedSince: String?
        package var extensionDays: Int
        package var repliedLevel: String?
        package var gapCount: Int
    }

    /// The case's row; nil: no such case.
    package static func caseRow(caseId: String, from db: PostgresConnection) throws -> CaseRecord? {
        let r = try db.query(
            """
            SELECT case_id, source, order_no, status, level, unit_code, unit_name, urgency, category_name,
                   category_code, \(t("accept_time")), \(t("assigned_at")), \(t("signed_at")), \(t("replied_at")),
                   \(t("closed_at")), \(t("suspended_since")), extension_days, replied_level, gap_count, channel
            FROM cases WHERE case_id = $1
            """, [caseId], context: "read case")
        guard r.count == 1 else { return nil }
        let c = "cases"
        return CaseRecord(
            caseId: try r.string(0, 0, in: c), source: try r.string(0, 1, in: c), orderNo: try r.string(0, 2, in: c),
            status: try r.string(0, 3, in: c), level: try r.string(0, 4, in: c), unitCode: try r.string(0, 5, in: c),
            unitName: try r.string(0, 6, in: c), urgency: try r.string(0, 7, in: c), categoryName: try r.string(0, 8, in: c),
            categoryCode: r.string(0, 9), channel: r.string(0, 19), acceptTime: try r.string(0, 10, in: c),
            assignedAt: try r.string(0, 11, in: c), signedAt: r.string(0, 12), repliedAt: r.string(0, 13),
            closedAt: r.string(0, 14), suspendedSince: r.string(0, 15), extensionDays: r.int(0, 16) ?? 0,
            repliedLevel: r.string(0, 17), gapCount: r.int(0, 18) ?? 0)
    }

    /// The case's state as the intake keeps it, or nil: what `units resolve` resolves from.
    package static func state(caseId: String, from db: PostgresConnection) throws -> CaseState? {
        let rows = try db.query(
            "SELECT \(CaseRow.selectList) FROM cases WHERE case_id = $1", [caseId], context: "read case state")
        return rows.count == 1 ? try CaseRow.read(rows, row: 0) : nil
    }

    /// One applied event of a case, with where it came from (times RFC 3339).
    package struct EventRecord: Sendable {
        package var eventNo: Int
        package var type, eventTime, eventKey: String
        package var sequence: Int?
        package var gapBefore: Int
        package var level, unitCode, result: String?
        package var days: Int?
        package var satisfaction: String?
        package var source: SourceCoordinates
    }

    /// The case's events in order.
    package static func events(caseId: String, from db: PostgresConnection) throws -> [EventRecord] {
        let r = try db.query(
            """
            SELECT event_no, type, \(t("event_time")), event_key, sequence, gap_before, level, unit_code, result,
                   days, satisfaction, topic, partition, "offset"
            FROM case_events WHERE case_id = $1 ORDER BY event_no
            """, [caseId], context: "read case events")
        let c = "case_events"
        return try (0..<r.count).map { i in
            EventRecord(
                eventNo: try r.int(i, 0, in: c), type: try r.string(i, 1, in: c), eventTime: try r.string(i, 2, in: c),
                eventKey: try r.string(i, 3, in: c), sequence: r.int(i, 4), gapBefore: r.int(i, 5) ?? 0,
                level: r.string(i, 6), unitCode: r.string(i, 7), result: r.string(i, 8), days: r.int(i, 9),
                satisfaction: r.string(i, 10),
                source: SourceCoordinates(
                    topic: try r.string(i, 11, in: c), partition: Int32(try r.int(i, 12, in: c)),
                    offset: try r.int64(i, 13, in: c)))
        }
    }

    /// The case's clock; nil: none (the case has no SLA clocks, or they ended).
    package static func clock(caseId: String, from db: PostgresConnection) throws -> CaseClock? {
        let r = try db.query("SELECT clock FROM case_clocks WHERE case_id = $1", [caseId], context: "read clocks")
        guard r.count == 1 else { return nil }
        return try CaseClock(jsonText: r.string(0, 0) ?? "")
    }

    /// An event the ladder emitted for a case, as `case show` lists it.
    package struct EmittedRecord: Sendable {
        package var id, type, level: String
        package var toLevel: String?
        /// When it was decided (RFC 3339).
        package var decidedAt: String
        package var topic: String?
        /// Whether the relay has published it (its outbox row is gone).
        package var published: Bool
        /// Who held the case; for an escalation, the unit it went to and how that was found.
        package var unitCode, toUnitCode, toUnitName, resolvedBy: String?
    }

    /// The events the ladder emitted for the case, in the order they were decided.
    package static func emitted(caseId: String, from db: PostgresConnection) throws -> [EmittedRecord] {
        let r = try db.query(
            """
            SELECT d.id, d.type, d.level, d.to_level, \(t("d.decided_at")), coalesce(d.topic, o.topic), o.seq IS NULL,
                   d.unit_code, d.to_unit_code, d.to_unit_name, d.resolved_by
            FROM sla_decisions d LEFT JOIN outbox o ON o.id = d.id
            WHERE d.case_id = $1
            ORDER BY d.decided_at, CASE d.type WHEN 'gridloop.case.supervision.warning' THEN 1
                WHEN 'gridloop.case.supervision.overdue' THEN 2 WHEN 'gridloop.case.supervision.urge' THEN 3
                WHEN 'gridloop.case.escalated' THEN 4 ELSE 5 END, d.id
            """, [caseId], context: "read emitted events")
        let c = "sla_decisions"
        return try (0..<r.count).map { i in
            EmittedRecord(
                id: try r.string(i, 0, in: c), type: try r.string(i, 1, in: c), level: try r.string(i, 2, in: c),
                toLevel: r.string(i, 3), decidedAt: try r.string(i, 4, in: c), topic: r.string(i, 5),
                published: r.string(i, 6) == "t", unitCode: r.string(i, 7), toUnitCode: r.string(i, 8),
                toUnitName: r.string(i, 9), resolvedBy: r.string(i, 10))
        }
    }
}
