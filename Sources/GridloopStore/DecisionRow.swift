import Foundation
import GridloopCore
import GridloopPostgres

/// The columns of a decision in `sla_decisions` and in the outbox.
enum DecisionRow {
    /// The COPY bodies of these decisions' records and outbox rows, each id once (the outbox has
    /// no unique index to drop a repeat) and none of `known`; nil: nothing to write. Written
    /// straight from the records: a burst writes 200,000 of them, and a copy of each cost more
    /// than the writing.
    static func copies(_ decisions: [DecisionRecord], skipping known: Set<String> = [])
        -> (records: [UInt8], outbox: [UInt8])?
    {
        var ids = Set<String>(minimumCapacity: decisions.count)
        var records = CopyBinaryWriter(capacity: decisions.count * 160)
        var queued = CopyBinaryWriter(capacity: decisions.count * 900)
        var written = 0
        for r in decisions where !known.contains(r.decision.id) && ids.insert(r.decision.id).inserted {
            writeRecord(r, to: &records)
            OutboxQueue.writeDecision(r, to: &queued)
            written += 1
        }
        return written == 0 ? nil : (records.finished, queued.finished)
    }

    /// A row of `sla_decisions`: id, case_id, type, level, to_level, clock, decided_at, deadline, topic,
    /// unit_code, to_unit_code, to_unit_name, resolved_by, limit_kind, escalation_reason,
    /// resolution_result. `clock` repeats the one of the last three that the row's type has, for
    /// versions before 18, which read it (migration 018).
    static func writeRecord(_ r: DecisionRecord, to copy: inout CopyBinaryWriter) {
        let d = r.decision
        copy.text(d.id)
        copy.text(d.caseId)
        copy.text(d.typeName)
        switch d.kind {
        case .warning(let limit, let deadline, _), .overdue(let limit, let deadline), .urge(let limit, let deadline, _):
            copy.text(r.level.rawValue)
            copy.text(nil)
            copy.text(limit.rawValue)
            copy.timestamp(epochMillis: d.time)
            copy.timestamp(epochMillis: deadline)
        case .escalated(let e):
            copy.text(r.level.rawValue)
            copy.text(e.to.rawValue)
            copy.text(e.reason)
            copy.timestamp(epochMillis: d.time)
            copy.timestamp(epochMillis: e.deadline)
        case .resolved(let resolution):
            copy.text(resolution.level.rawValue)  // the 721 count: where it was resolved
            copy.text(nil)
            copy.text(resolution.result)
            copy.timestamp(epochMillis: d.time)
            copy.timestamp(epochMillis: nil)
        }
        copy.text(r.topic)
        copy.text(r.unitCode)
        if case .escalated(let e) = d.kind {
            copy.text(e.toUnit.unit.unitCode)
            copy.text(e.toUnit.unit.unitName)
            copy.text(e.toUnit.resolvedBy.rawValue)
        } else {
            copy.text(nil)
            copy.text(nil)
            copy.text(nil)
        }
        switch d.kind {
        case .warning(let limit, _, _), .overdue(let limit, _), .urge(let limit, _, _):
            copy.text(limit.rawValue)
            copy.text(nil)
            copy.text(nil)
        case .escalated(let e):
            copy.text(nil)
            copy.text(e.reason)
            copy.text(nil)
        case .resolved(let resolution):
            copy.text(nil)
            copy.text(nil)
            copy.text(resolution.result)
        }
        copy.endRow()
    }
}
