import GridloopCore
import GridloopPostgres

/// The mapping between `CaseState` and a row of the `cases` table.
enum CaseRow {
    /// Columns in the order that `select` reads and `write` writes them.
    static let columns =
        [
            "case_id", "source", "order_no", "status", "level", "unit_code", "unit_name", "urgency",
            "category_code", "category_name", "channel", "appeal_type", "accept_time", "district_code",
            "street_code", "community_code", "grid_code", "platform_sign_hours", "platform_handle_days",
            "platform_deadline", "repeat_of",
        ] + progressColumns

    /// The columns an event can change; the rest are the order's facts, written once.
    static let mutableColumns = ["case_id", "status", "level", "unit_code", "unit_name"] + progressColumns

    /// Where the case stands in its handling: the last columns of both lists (`writeProgress`).
    private static let progressColumns = [
        "assigned_at", "signed_at", "replied_at", "closed_at", "suspended_since", "extension_days", "replied_level",
        "last_result", "last_satisfaction", "last_sequence", "event_count", "gap_count", "last_event_time",
    ]

    /// Writes the `mutableColumns` of a state.
    static func writeMutable(_ s: CaseState, to w: inout CopyBinaryWriter) {
        w.text(s.caseId)
        w.text(s.status.rawValue)
        w.text(s.level.rawValue)
        w.text(s.unitCode)
        w.text(s.unitName)
        writeProgress(s, to: &w)
    }

    /// The `progressColumns` of a state, ending the row.
    private static func writeProgress(_ s: CaseState, to w: inout CopyBinaryWriter) {
        w.timestamp(epochMillis: s.assignedAt)
        w.timestamp(epochMillis: s.signedAt)
        w.timestamp(epochMillis: s.repliedAt)
        w.timestamp(epochMillis: s.closedAt)
        w.timestamp(epochMillis: s.suspendedSince)
        w.int(s.extensionDays)
        w.text(s.repliedLevel?.rawValue)
        w.text(s.lastResult?.rawValue)
        w.text(s.lastSatisfaction?.rawValue)
        w.int(s.lastSequence)
        w.int(s.eventCount)
        w.int(s.gapCount)
        w.timestamp(epochMillis: s.lastEventTime)
        w.endRow()
    }

    private static let timeColumns: Set<String> = [
        "accept_time", "platform_deadline", "assigned_at", "signed_at", "replied_at", "closed_at",
        "suspended_since", "last_event_time",
    ]

    /// The SELECT list, with times as epoch milliseconds.
    static let selectList: String = columns.map { c in
        timeColumns.contains(c) ? "(extract(epoch from \(c)) * 1000)::bigint" : c
    }.joined(separator: ", ")

    static func write(_ s: CaseState, to w: inout CopyBinaryWriter) {
        let o = s.order
        w.text(s.caseId)
        w.text(s.source.rawValue)
        w.text(s.orderNo)
        w.text(s.status.rawValue)
        w.text(s.level.rawValue)
        w.text(s.unitCode)
        w.text(s.unitName)
        w.text(o.urgency.rawValue)
        w.text(o.categoryCode)
        w.text(o.categoryName)
        w.text(o.channel)
        w.text(o.appealType)
        w.timestamp(epochMillis: o.acceptTime)
        w.text(o.districtCode)
        w.text(o.streetCode)
        w.text(o.communityCode)
        w.text(o.gridCode)
        w.int(o.platformSignHours)
        w.int(o.platformHandleDays)
        w.timestamp(epochMillis: o.platformDeadline)
        w.text(o.repeatOf)
        writeProgress(s, to: &w)
    }

    struct Malformed: Error, CustomStringConvertible {
        var caseId: String
        var column: String
        var description: String { "cases row \(caseId): column \(column) holds a value Gridloop does not know" }
    }

    static func read(_ r: PostgresRows, row i: Int) throws -> CaseState {
        let id = r.string(i, 0) ?? "?"
        func req(_ c: Int) throws -> String {
            guard let v = r.string(i, c) else { throw Malformed(caseId: id, column: columns[c]) }
            return v
        }
        func en<E: RawRepresentable>(_ c: Int, _: E.Type) throws -> E where E.RawValue == String {
            guard let v = E(rawValue: try req(c)) else { throw Malformed(caseId: id, column: columns[c]) }
            return v
        }
        func opt<E: RawRepresentable>(_ c: Int, _: E.Type) throws -> E? where E.RawValue == String {
            guard let s = r.string(i, c) else { return nil }
            guard let v = E(rawValue: s) else { throw Malformed(caseId: id, column: columns[c]) }
            return v
        }
        func ms(_ c: Int) throws -> Int64 {
            guard let v = r.int64(i, c) else { throw Malformed(caseId: id, column: columns[c]) }
            return v
        }
        let order = OrderFacts(
            channel: r.string(i, 10), appealType: r.string(i, 11), categoryCode: r.string(i, 8),
            categoryName: try req(9), urgency: try en(7, Urgency.self), acceptTime: try ms(12),
            districtCode: r.string(i, 13), streetCode: r.string(i, 14), communityCode: r.string(i, 15),
            gridCode: r.string(i, 16), platformSignHours: r.int(i, 17), platformHandleDays: r.int(i, 18),
            platformDeadline: r.int64(i, 19), repeatOf: r.string(i, 20))
        return CaseState(
            caseId: id, source: try en(1, CaseSource.self), orderNo: try req(2), status: try en(3, CaseStatus.self),
            level: try en(4, LoopLevel.self), unitCode: try req(5), unitName: try req(6), order: order,
            assignedAt: try ms(21), signedAt: r.int64(i, 22), repliedAt: r.int64(i, 23), closedAt: r.int64(i, 24),
            suspendedSince: r.int64(i, 25), extensionDays: r.int(i, 26) ?? 0,
            repliedLevel: try opt(27, LoopLevel.self), lastResult: try opt(28, ReplyResult.self),
            lastSatisfaction: try opt(29, Satisfaction.self), lastSequence: r.int(i, 30) ?? 0,
            eventCount: r.int(i, 31) ?? 0, gapCount: r.int(i, 32) ?? 0, lastEventTime: try ms(33))
    }
}
