import Foundation
import GridloopCore
import GridloopPostgres

/// A decision as written: its outbox row (the published event) and its record in `sla_decisions`.
public struct DecisionRecord: Sendable {
    public var decision: SLADecision
    /// The case's level when the decision was taken (for an escalation, the level it left).
    public var level: LoopLevel
    public var topic: String
    public var payload: [UInt8]
}

/// What the SLA clocks write with a batch, in the batch's transaction.
public struct ClockChanges: Sendable {
    public var clocks: [String: CaseClock] = [:]
    /// When each changed clock next needs attention (absent: nothing pending).
    public var due: [String: Int64] = [:]
    public var decisions: [DecisionRecord] = []
    public init() {}
    public var isEmpty: Bool { clocks.isEmpty && decisions.isEmpty }
}

extension IntakeStore {
    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }()

    /// The stored clocks of these cases.
    public func clocks(caseIds: Set<String>) throws -> [String: CaseClock] {
        guard !caseIds.isEmpty else { return [:] }
        let rows = try connection.query("SELECT clock::text FROM case_clocks WHERE case_id = ANY($1::text[])",
                                        [PostgresArray.text(caseIds)], context: "load clocks")
        return try decodeClocks(rows)
    }

    /// Clocks due at or before their partition's watermark (epoch ms), earliest first per
    /// partition, about `limit` in all.
    public func dueClocks(watermarks: [(topic: String, partition: Int32, watermark: Int64)], limit: Int) throws -> [CaseClock] {
        guard !watermarks.isEmpty else { return [] }
        // Per partition, an index range scan on (topic, partition, next_due): never a scan of
        // all open cases, however many there are.
        let perPartition = max(100, limit / watermarks.count)
        let rows = try connection.query("""
            SELECT c.clock::text FROM unnest($1::text[], $2::int[], $3::bigint[]) AS w(t, p, wm)
            CROSS JOIN LATERAL (
                SELECT clock FROM case_clocks
                WHERE topic = w.t AND partition = w.p AND next_due IS NOT NULL
                  AND next_due <= to_timestamp(w.wm / 1000.0)
                ORDER BY next_due LIMIT \(perPartition)) c
            """, [PostgresArray.text(watermarks.map(\.topic)), PostgresArray.int(watermarks.map(\.partition)),
                  PostgresArray.int(watermarks.map(\.watermark))], context: "load due clocks")
        return Array(try decodeClocks(rows).values)
    }

    private func decodeClocks(_ rows: PostgresRows) throws -> [String: CaseClock] {
        var out: [String: CaseClock] = [:]
        let decoder = JSONDecoder()
        for i in 0..<rows.count {
            let c = try decoder.decode(CaseClock.self, from: Data(rows.string(i, 0)!.utf8))
            out[c.caseId] = c
        }
        return out
    }

    /// Writes changed clocks (with when each next needs attention) and the decisions' outbox rows.
    func write(_ changes: ClockChanges) throws {
        if !changes.clocks.isEmpty {
            let clocks = changes.clocks.values.sorted { $0.caseId < $1.caseId }
            let due = clocks.map { changes.due[$0.caseId].map(String.init) ?? "NULL" }
            let json = try clocks.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) }
            try connection.query("""
                INSERT INTO case_clocks (case_id, topic, partition, level, next_due, clock)
                SELECT id, t, p, l, to_timestamp(d / 1000.0), c::jsonb
                FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bigint[], $6::text[]) AS u(id, t, p, l, d, c)
                ON CONFLICT (case_id) DO UPDATE SET topic = excluded.topic, partition = excluded.partition,
                    level = excluded.level, next_due = excluded.next_due, clock = excluded.clock, updated_at = now()
                """, [PostgresArray.text(clocks.map(\.caseId)), PostgresArray.text(clocks.map(\.topic)),
                      PostgresArray.int(clocks.map(\.partition)), PostgresArray.text(clocks.map(\.level.rawValue)),
                      "{" + due.joined(separator: ",") + "}", PostgresArray.text(json)],
                context: "write clocks")
        }
        guard !changes.decisions.isEmpty else { return }
        var copy = CopyBinaryWriter()
        for r in changes.decisions {
            copy.text(r.decision.id); copy.text(r.topic); copy.bytea(Array(r.decision.caseId.utf8)); copy.bytea(r.payload)
            copy.textArray(OutboundEvent.headers(r.decision))
            copy.endRow()
        }
        // A decision is taken once: replaying the same events yields the same ids, which the
        // unique id turns into no-ops rather than second events.
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS outbox_stage (id text, topic text, msg_key bytea, payload bytea, headers text[])
            """, context: "create outbox_stage")
        try connection.copyIn("COPY outbox_stage (id, topic, msg_key, payload, headers) FROM STDIN (FORMAT binary)",
                              data: copy.finished, context: "COPY outbox_stage")
        try connection.execute("""
            INSERT INTO outbox (id, topic, msg_key, payload, headers)
            SELECT id, topic, msg_key, payload, headers FROM outbox_stage ON CONFLICT (id) DO NOTHING;
            TRUNCATE outbox_stage
            """, context: "write decisions to the outbox")
        var ids: [String] = [], cases: [String] = [], types: [String] = [], levels: [String] = []
        var toLevels: [String] = [], kinds: [String] = [], times: [Int64] = [], deadlines: [String] = []
        for r in changes.decisions {
            let d = r.decision
            ids.append(d.id); cases.append(d.caseId); types.append(d.typeName); levels.append(r.level.rawValue)
            times.append(d.time)
            var to = "", kind = "", deadline: Int64?
            switch d.kind {
            case .warning(let l, let dl, _), .overdue(let l, let dl), .urge(let l, let dl, _):
                kind = l.rawValue
                deadline = dl
            case .escalated(_, let t, let reason, let dl, _):
                to = t.rawValue
                kind = reason
                deadline = dl
            case .resolved(let resolvedAt, let result, _, _, _, _):
                kind = result
                levels[levels.count - 1] = resolvedAt.rawValue  // the 721 count: where it was resolved
            }
            toLevels.append(to); kinds.append(kind); deadlines.append(deadline.map(String.init) ?? "NULL")
        }
        try connection.query("""
            INSERT INTO sla_decisions (id, case_id, type, level, to_level, clock, decided_at, deadline)
            SELECT id, c, ty, l, nullif(tl, ''), k, to_timestamp(t / 1000.0), to_timestamp(d / 1000.0)
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])
                AS u(id, c, ty, l, tl, k, t, d)
            ON CONFLICT (id) DO NOTHING
            """, [PostgresArray.text(ids), PostgresArray.text(cases), PostgresArray.text(types), PostgresArray.text(levels),
                  PostgresArray.text(toLevels), PostgresArray.text(kinds), PostgresArray.int(times),
                  "{" + deadlines.joined(separator: ",") + "}"], context: "record decisions")
    }
}
