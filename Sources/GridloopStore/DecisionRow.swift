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
    /// unit_code, to_unit_code, to_unit_name, resolved_by.
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
        case .escalated(_, let to, let reason, let deadline, _, _, _):
            copy.text(r.level.rawValue)
            copy.text(to.rawValue)
            copy.text(reason)
            copy.timestamp(epochMillis: d.time)
            copy.timestamp(epochMillis: deadline)
        case .resolved(let resolvedAt, let result, _, _, _, _):
            copy.text(resolvedAt.rawValue)  // the 721 count: where it was resolved
            copy.text(nil)
            copy.text(result)
            copy.timestamp(epochMillis: d.time)
            copy.timestamp(epochMillis: nil)
        }
        copy.text(r.topic)
        copy.text(r.unitCode)
        if case .escalated(_, _, _, _, _, _, let unit) = d.kind {
            copy.text(unit.unit.unitCode)
            copy.text(unit.unit.unitName)
            copy.text(unit.resolvedBy.rawValue)
        } else {
            copy.text(nil)
            copy.text(nil)
            copy.text(nil)
        }
        copy.endRow()
    }
}
