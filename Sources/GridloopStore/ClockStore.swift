import Foundation
import GridloopCore
import GridloopPostgres

/// A decision as written: its outbox row (the published event) and its record in `sla_decisions`.
public struct DecisionRecord: Sendable {
    public var decision: SLADecision
    /// The case's level when the decision was taken (for an escalation, the level it left).
    public var level: LoopLevel
    /// The unit that held the case then (for an escalation, the unit it left).
    public var unitCode: String
    /// The topic the event goes to (recorded in `sla_decisions`).
    public var topic: String
    /// The event's JSON (`OutboundEvent.json`).
    public var payload: [UInt8]

    package init(decision: SLADecision, level: LoopLevel, unitCode: String, topic: String, payload: [UInt8]) {
        self.decision = decision
        self.level = level
        self.unitCode = unitCode
        self.topic = topic
        self.payload = payload
    }
}

/// What the SLA clocks write with a batch, in the batch's transaction.
public struct ClockChanges: Sendable {
    public var clocks: [String: CaseClock] = [:]
    /// When each changed clock next needs attention (absent: nothing pending).
    public var due: [String: Int64] = [:]
    public var decisions: [DecisionRecord] = []
    public init() {}
    public var isEmpty: Bool { clocks.isEmpty && decisions.isEmpty }

    /// The COPY bodies of the clocks and of the decisions, built by `prepare()`: the intake
    /// thread builds them while the commit thread is still writing the batch before.
    var prepared: Prepared?

    struct Prepared: Sendable {
        /// Rows of `clock_stage`, one per changed clock (nil: none).
        var clocks: [UInt8]?
        /// The decisions' `sla_decisions` and outbox rows, each id once (nil: none).
        var copies: (records: [UInt8], outbox: [UInt8])?
    }

    /// Encodes the clocks (JSON) and decisions into their COPY bodies now, so that writing them
    /// is I/O only. Call it once the changes are complete: later changes are not in the bodies.
    public mutating func prepare() {
        guard prepared == nil else { return }
        var body: [UInt8]?
        if !clocks.isEmpty {
            var copy = CopyBinaryWriter(capacity: clocks.count * 512)
            for clock in clocks.values.sorted(by: { $0.caseId < $1.caseId }) {
                copy.text(clock.caseId)
                copy.text(clock.topic)
                copy.int(Int(clock.partition))
                copy.text(clock.level.rawValue)
                copy.timestamp(epochMillis: due[clock.caseId])
                copy.text(utf8: clock.json)
                copy.endRow()
            }
            body = copy.finished
        }
        prepared = Prepared(clocks: body, copies: DecisionRow.copies(decisions))
    }
}

extension IntakeStore {
    /// The stored clocks of these cases.
    public func clocks(caseIds: Set<String>) throws -> [String: CaseClock] {
        guard !caseIds.isEmpty else { return [:] }
        let rows = try connection.query(
            "SELECT clock FROM case_clocks WHERE case_id = ANY($1::text[])",
            [PostgresArray.text(caseIds)], context: "load clocks")
        return try decodeClocks(rows)
    }

    /// Where a partition's due clocks are read from, up to what, and after which clock.
    public struct DueCursor: Sendable {
        public var topic: String
        public var partition: Int32
        /// Epoch ms: clocks due at or before it are due.
        public var watermark: Int64
        /// The last clock read, `(next_due as stored, case id)`; nil: from the start.
        public var after: (due: String, caseId: String)?
        public init(topic: String, partition: Int32, watermark: Int64) {
            self.topic = topic
            self.partition = partition
            self.watermark = watermark
        }
    }

    /// The next page of due clocks, earliest first per partition, `perPartition` at most from
    /// each, after each cursor's last clock; moves the cursors past what it returns. A clock read
    /// here is never returned again for the same cursor, so the next page can be read while
    /// this one is still being committed.
    public func dueClocks(_ cursors: inout [DueCursor], perPartition: Int) throws -> [CaseClock] {
        guard !cursors.isEmpty else { return [] }
        // Per partition, an index range scan on (topic, partition, next_due, case_id): never a
        // scan of all open cases, however many there are.
        let rows = try connection.query(
            """
            SELECT w.i, c.next_due::text, c.case_id, c.clock
            FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[]) WITH ORDINALITY AS w(t, p, wm, ad, ac, i)
            CROSS JOIN LATERAL (
                SELECT next_due, case_id, clock FROM case_clocks
                WHERE topic = w.t AND partition = w.p AND next_due IS NOT NULL
                  AND next_due <= to_timestamp(w.wm / 1000.0)
                  AND (next_due, case_id) > (w.ad::timestamptz, w.ac)
                ORDER BY next_due, case_id LIMIT \(perPartition)) c
            ORDER BY w.i, c.next_due, c.case_id
            """,
            [
                PostgresArray.text(cursors.map(\.topic)), PostgresArray.int(cursors.map(\.partition)),
                PostgresArray.int(cursors.map(\.watermark)), PostgresArray.text(cursors.map { $0.after?.due ?? "-infinity" }),
                PostgresArray.text(cursors.map { $0.after?.caseId ?? "" }),
            ], context: "load due clocks")
        var out: [CaseClock] = []
        out.reserveCapacity(rows.count)
        for r in 0..<rows.count {
            guard let i = rows.string(r, 0).flatMap({ Int($0) }), let due = rows.string(r, 1), let id = rows.string(r, 2) else {
                continue
            }
            cursors[i - 1].after = (due, id)
            out.append(try CaseClock(jsonText: rows.string(r, 3) ?? ""))
        }
        return out
    }

    private func decodeClocks(_ rows: PostgresRows) throws -> [String: CaseClock] {
        var out: [String: CaseClock] = [:]
        out.reserveCapacity(rows.count)
        for i in 0..<rows.count {
            let c = try CaseClock(jsonText: rows.string(i, 0) ?? "")
            out[c.caseId] = c
        }
        return out
    }

    /// Writes changed clocks (with when each next needs attention) and the decisions' outbox rows.
    func write(_ changes: ClockChanges) throws {
        var changes = changes
        let t0 = monotonicNanos()
        changes.prepare()  // already done on the intake's path
        guard let prepared = changes.prepared else { return }
        lastWriteTimings["clock_json_us"] = (monotonicNanos() - t0) / 1000
        if let body = prepared.clocks {
            // Binary COPY into a stage, then one upsert: no array literals to escape and parse.
            try connection.copyIn("COPY clock_stage FROM STDIN (FORMAT binary)", data: body, context: "COPY clock_stage")
            try connection.execute(
                """
                INSERT INTO case_clocks (case_id, topic, partition, level, next_due, clock)
                SELECT case_id, topic, partition, level, next_due, clock FROM clock_stage
                ON CONFLICT (case_id) DO UPDATE SET topic = excluded.topic, partition = excluded.partition,
                    level = excluded.level, next_due = excluded.next_due, clock = excluded.clock, updated_at = now()
                """, context: "write clocks")
            lastWriteTimings["clock_upsert_us"] = (monotonicNanos() - t0) / 1000
        }
        guard let copies = prepared.copies else { return }
        let t1 = monotonicNanos()
        lastWriteTimings["decisions"] = UInt64(changes.decisions.count)
        lastWriteTimings["clocks"] = UInt64(changes.clocks.count)
        defer { lastWriteTimings["decisions_us"] = (monotonicNanos() - t1) / 1000 }
        // A decision is taken once: replaying the same events yields the same ids. Usually none
        // of them is recorded yet, and they are copied straight into `sla_decisions` and the
        // outbox, under a savepoint. A replay (after a crash, or a partition taken over) violates
        // the primary key of `sla_decisions`: then back to the savepoint, and the decisions
        // recorded before (their events were queued then) are left out.
        try connection.execute("SAVEPOINT decisions", context: "savepoint decisions")
        do {
            try copyDecisions(copies)
            try connection.execute("RELEASE SAVEPOINT decisions", context: "release savepoint decisions")
            return
        } catch let error as PostgresError where error.hasSQLState(PostgresError.Code.uniqueViolation) {
            try connection.execute(
                "ROLLBACK TO SAVEPOINT decisions; RELEASE SAVEPOINT decisions",
                context: "roll back to savepoint decisions")
        }
        lastWriteTimings["decisions_replayed"] = 1
        let recorded = try connection.query(
            "SELECT id FROM sla_decisions WHERE id = ANY($1::text[])",
            [PostgresArray.text(Set(changes.decisions.map(\.decision.id)))],
            context: "decisions recorded before")
        let known = Set((0..<recorded.count).compactMap { recorded.string($0, 0) })
        if let rest = DecisionRow.copies(changes.decisions, skipping: known) { try copyDecisions(rest) }
    }

    /// Decision records and their outbox rows (in order), by binary COPY.
    private func copyDecisions(_ copies: (records: [UInt8], outbox: [UInt8])) throws {
        try connection.copyIn(
            """
            COPY sla_decisions (id, case_id, type, level, to_level, clock, decided_at, deadline, topic, unit_code,
                to_unit_code, to_unit_name, resolved_by)
            FROM STDIN (FORMAT binary)
            """, data: copies.records, context: "COPY sla_decisions")
        try connection.copyIn(OutboxQueue.copyIn, data: copies.outbox, context: "COPY outbox (decisions)")
    }
}

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
