import Foundation
import GridloopCore
import GridloopPostgres

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
        public var topicPartition: TopicPartition
        public var topic: String { topicPartition.topic }
        public var partition: Int32 { topicPartition.partition }
        /// Epoch ms: clocks due at or before it are due.
        public var watermark: Int64
        /// The last clock read, `(next_due as stored, case id)`; nil: from the start.
        public var after: (due: String, caseId: String)?
        public init(_ topicPartition: TopicPartition, watermark: Int64) {
            self.topicPartition = topicPartition
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
                to_unit_code, to_unit_name, resolved_by, limit_kind, escalation_reason, resolution_result)
            FROM STDIN (FORMAT binary)
            """, data: copies.records, context: "COPY sla_decisions")
        try connection.copyIn(OutboxQueue.copyIn, data: copies.outbox, context: "COPY outbox (decisions)")
    }
}
