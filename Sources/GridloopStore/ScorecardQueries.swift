import GridloopPostgres

/// The counts of `gridloopd report scorecard`: per level and unit, over the handlings that began
/// from `from` to `to` (`YYYY-MM-DD`, Asia/Shanghai, inclusive). Every term is defined in
/// docs/SCORECARD.md; `Scorecard` (in GridloopEvaluation) computes the rates, composite and ranks.
package enum ScorecardQueries {
    /// The handlings of the cases `$1` (text[]) and their facts, set-based, with no sort of the
    /// whole history: the handlings are the case's assignments (DISPATCH, REDISPATCH,
    /// escalation) with the key of the next one (a window over those few rows); every other
    /// entry finds its handling, and every callback its reply, by a join on the case and a
    /// range of timeline keys `(time, rank, event_no, id)`, the order docs/SCORECARD.md gives
    /// (rank 0 event, 1 overdue, 2 escalation). Replaces the cases' rows of `scorecard_handlings`.
    static let refreshSQL = """
        WITH picked AS MATERIALIZED (SELECT unnest($1::text[]) AS case_id),
        starts AS (
            SELECT case_id, event_time AS t, 0 AS r, event_no AS n, '' AS id, type, level, unit_code, NULL::text AS reason
            FROM case_events WHERE case_id IN (SELECT case_id FROM picked) AND type IN ('DISPATCH', 'REDISPATCH')
            UNION ALL
            SELECT case_id, decided_at, 2, 0, id, 'ESCALATED', to_level, to_unit_code, coalesce(escalation_reason, clock)
            FROM sla_decisions WHERE case_id IN (SELECT case_id FROM picked) AND type = 'gridloop.case.escalated'),
        withdrawn AS (
            SELECT DISTINCT case_id FROM case_events WHERE case_id IN (SELECT case_id FROM picked) AND type = 'WITHDRAW'),
        ranged AS (
            SELECT s.*, lead(t) OVER w AS nt, lead(r) OVER w AS nr, lead(n) OVER w AS nn, lead(id) OVER w AS nid,
                   lead(type) OVER w AS next_type, lead(unit_code) OVER w AS next_unit, lead(reason) OVER w AS next_reason
            FROM starts s
            WINDOW w AS (PARTITION BY case_id ORDER BY t, r, n, id)),
        -- The handlings, less those of withdrawn cases (they count for nobody); hid names one.
        hin AS MATERIALIZED (
            SELECT ranged.*, row_number() OVER () AS hid FROM ranged
            WHERE case_id NOT IN (SELECT case_id FROM withdrawn)),
        facts AS (
            SELECT h.hid,
                   bool_or(x.type = 'SIGN') AS signed, bool_or(x.type = 'REPLY') AS replied,
                   bool_or(x.type = 'RETURN') AS returned,
                   bool_or(x.type = 'OVERDUE' AND x.limit_kind = 'SIGN') AS sign_overdue,
                   bool_or(x.type = 'OVERDUE' AND x.limit_kind = 'HANDLE') AS handle_overdue,
                   min(x.t) FILTER (WHERE x.type = 'SIGN') AS signed_at,
                   min(x.t) FILTER (WHERE x.type = 'REPLY') AS replied_at
            FROM hin h JOIN (
                SELECT case_id, event_time AS t, 0 AS r, event_no AS n, '' AS id, type, NULL::text AS limit_kind
                FROM case_events WHERE case_id IN (SELECT case_id FROM picked) AND type IN ('SIGN', 'REPLY', 'RETURN')
                UNION ALL
                SELECT case_id, decided_at, 1, 0, id, 'OVERDUE', coalesce(limit_kind, clock)
                FROM sla_decisions
                WHERE case_id IN (SELECT case_id FROM picked) AND type = 'gridloop.case.supervision.overdue') x
              ON x.case_id = h.case_id AND (x.t, x.r, x.n, x.id) > (h.t, h.r, h.n, h.id)
                 AND (h.nt IS NULL OR (x.t, x.r, x.n, x.id) < (h.nt, h.nr, h.nn, h.nid))
            GROUP BY h.hid),
        callback_events AS MATERIALIZED (
            SELECT case_id, event_time AS t, event_no AS n, type, satisfaction
            FROM case_events WHERE case_id IN (SELECT case_id FROM picked) AND type IN ('VISIT', 'REOPEN')),
        -- Every reply, with the key of the case's next reply.
        replies AS (
            SELECT case_id, event_time AS t, event_no AS n, result,
                   lead(event_time) OVER w AS nt, lead(event_no) OVER w AS nn
            FROM case_events WHERE case_id IN (SELECT case_id FROM picked) AND type = 'REPLY'
            WINDOW w AS (PARTITION BY case_id ORDER BY event_time, event_no)),
        -- The replies made in each handling; pid names one. The last of its handling when the
        -- case's next reply is in a later handling, or there is none.
        hreplies AS MATERIALIZED (
            SELECT h.hid, p.case_id, p.t, p.n, p.nt, p.nn, p.result,
                   (p.nt IS NULL OR (h.nt IS NOT NULL AND (p.nt, 0, p.nn, '') > (h.nt, h.nr, h.nn, h.nid))) AS is_last,
                   row_number() OVER () AS pid
            FROM hin h JOIN replies p
              ON p.case_id = h.case_id AND (p.t, 0, p.n, '') > (h.t, h.r, h.n, h.id)
                 AND (h.nt IS NULL OR (p.t, 0, p.n, '') < (h.nt, h.nr, h.nn, h.nid))),
        -- Each reply's aftermath: the callbacks and reopenings up to the case's next reply. A
        -- callback's key orders it (time, then event number): the reply's last callback that reached
        -- the citizen was satisfied when it is also the last satisfied one.
        after AS (
            SELECT p.pid,
                   bool_or(v.type = 'REOPEN' OR v.satisfaction = 'UNSATISFIED') AS reopened,
                   count(*) FILTER (WHERE v.type = 'VISIT' AND v.satisfaction <> 'UNREACHABLE') AS callbacks,
                   count(*) FILTER (WHERE v.type = 'VISIT' AND v.satisfaction IN ('SATISFIED', 'BASICALLY_SATISFIED'))
                       AS satisfied,
                   max(extract(epoch FROM v.t) * 1000000000000 + v.n)
                       FILTER (WHERE v.type = 'VISIT' AND v.satisfaction <> 'UNREACHABLE')
                   = max(extract(epoch FROM v.t) * 1000000000000 + v.n)
                       FILTER (WHERE v.type = 'VISIT' AND v.satisfaction IN ('SATISFIED', 'BASICALLY_SATISFIED'))
                       AS last_satisfied
            FROM hreplies p JOIN callback_events v
              ON v.case_id = p.case_id AND (v.t, v.n) > (p.t, p.n) AND (p.nt IS NULL OR (v.t, v.n) < (p.nt, p.nn))
            GROUP BY p.pid),
        by_handling AS (
            SELECT p.hid, count(*) AS replies, count(*) FILTER (WHERE a.reopened) AS reopened,
                   coalesce(sum(a.callbacks), 0) AS callbacks, coalesce(sum(a.satisfied), 0) AS satisfied,
                   bool_or(p.is_last AND a.callbacks > 0) AS resolution_base,
                   bool_or(p.is_last AND a.callbacks > 0 AND p.result = 'RESOLVED' AND a.last_satisfied) AS resolved
            FROM hreplies p LEFT JOIN after a USING (pid)
            GROUP BY p.hid),
        per AS (
            SELECT h.case_id, h.t, coalesce(h.level, '?') AS level, coalesce(h.unit_code, '(unknown)') AS unit_code,
                   coalesce(c.channel = 'QRCODE', false) AS qr,
                   coalesce(f.signed, false) AS signed, coalesce(f.replied, false) AS replied,
                   coalesce(f.returned, false) AS returned, coalesce(f.sign_overdue, false) AS sign_overdue,
                   coalesce(f.handle_overdue, false) AS handle_overdue,
                   (h.next_type IS NOT NULL OR c.status = 'CLOSED') AS ended,
                   -- A return not yet followed by an assignment: not accepted (yet); never null.
                   (coalesce(f.returned, false) AND coalesce(h.next_type = 'REDISPATCH', false)
                       AND h.next_unit IS DISTINCT FROM h.unit_code) AS accepted,
                   coalesce(h.next_type = 'ESCALATED' AND h.next_reason IN ('SIGN_OVERDUE', 'HANDLE_OVERDUE'), false) AS away,
                   coalesce(b.replies, 0) AS replies, coalesce(b.reopened, 0) AS reopened,
                   coalesce(b.callbacks, 0) AS callbacks, coalesce(b.satisfied, 0) AS satisfied,
                   coalesce(b.resolution_base, false) AS resolution_base, coalesce(b.resolved, false) AS resolved,
                   f.signed_at, f.replied_at,
                   coalesce(h.nt, CASE WHEN c.status = 'CLOSED' THEN c.last_event_time END) AS ended_at
            FROM hin h
            JOIN cases c USING (case_id)
            LEFT JOIN facts f USING (hid)
            LEFT JOIN by_handling b USING (hid)),
        cleared AS (DELETE FROM scorecard_handlings WHERE case_id IN (SELECT case_id FROM picked))
        -- Each handling's part in each count (docs/SCORECARD.md, "The figures of a unit").
        INSERT INTO scorecard_handlings (
            case_id, began_at, level, unit_code, qr, evaluated, returned, returned_elsewhere, responded, response_base,
            on_time, on_time_base, overdue, escalated_away, resolution_base, resolved, callbacks, satisfied, replies,
            reopened, signed_at, replied_at, ended_at)
        SELECT case_id, t, level, unit_code, qr,
               (NOT accepted)::int,
               returned::int,
               accepted::int,
               (NOT accepted AND signed AND NOT sign_overdue)::int,
               (NOT accepted AND (signed OR sign_overdue OR ended))::int,
               (NOT accepted AND replied AND NOT handle_overdue)::int,
               (NOT accepted AND (replied OR handle_overdue OR ended))::int,
               (NOT accepted AND (sign_overdue OR handle_overdue))::int,
               away::int,
               resolution_base::int,
               resolved::int,
               callbacks, satisfied, replies, reopened, signed_at, replied_at, ended_at
        FROM per
        """

    /// The counts of the period's handlings from `scorecard_handlings` (kept current by `refresh`).
    static let countsSQL = """
        WITH bounds AS MATERIALIZED (
            SELECT ($1::date::timestamp AT TIME ZONE 'Asia/Shanghai') AS lo,
                   (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai') AS hi),
        -- One pass over the period's handlings, by unit and channel; then the two groupings of
        -- those few thousand rows.
        per_unit AS (
            SELECT level, unit_code, qr, count(*) AS assigned, sum(evaluated) AS evaluated, sum(returned) AS returned,
                   sum(returned_elsewhere) AS returned_elsewhere, sum(responded) AS responded,
                   sum(response_base) AS response_base, sum(on_time) AS on_time, sum(on_time_base) AS on_time_base,
                   sum(overdue) AS overdue, sum(escalated_away) AS escalated_away,
                   sum(resolution_base) AS resolution_base, sum(resolved) AS resolved, sum(callbacks) AS callbacks,
                   sum(satisfied) AS satisfied, sum(replies) AS replies, sum(reopened) AS reopened
            FROM scorecard_handlings, bounds
            WHERE began_at >= lo AND began_at < hi
            GROUP BY level, unit_code, qr)
        SELECT level, unit_code, sum(assigned), sum(evaluated), sum(returned), sum(returned_elsewhere),
               sum(responded), sum(response_base), sum(on_time), sum(on_time_base), sum(overdue),
               sum(escalated_away), sum(resolution_base), sum(resolved), sum(callbacks), sum(satisfied),
               sum(replies), sum(reopened),
               qr, GROUPING(unit_code) = 1 AS by_channel
        FROM per_unit
        -- Per unit, and per level and channel (码上反馈 QRCODE against the others).
        GROUP BY GROUPING SETS ((level, unit_code), (level, qr))
        ORDER BY by_channel, level, unit_code, qr
        """

    /// What one `refresh` did: the cases it took from the queue (recomputed or set aside), and
    /// those set aside, with the problem, because their recomputation failed on their data.
    package struct Refreshed: Sendable {
        package var taken: Int
        package var setAside: [(caseId: String, problem: String)]
        /// Whether the queue had been reset and every case was queued again first.
        package var requeuedAll = false
    }

    /// Takes up to `limit` queued cases (`scorecard_dirty`; those another session is taking are
    /// skipped) and recomputes their handlings, in one transaction. Returns how many it took:
    /// fewer than `limit` means the queue was drained (but for cases another session holds).
    /// When the batch fails on its data (a case whose history the recomputation cannot hold),
    /// the cases are recomputed one a transaction instead and those that fail are set aside
    /// (taken from the queue, their old handlings kept, returned in `setAside`; a later change
    /// of the case queues it again): one case never stops the queue behind it.
    package static func refresh(limit: Int, db: PostgresConnection) throws -> Refreshed {
        let requeued = try requeueIfReset(db: db)
        do {
            return Refreshed(taken: try refreshTogether(limit: limit, db: db), setAside: [], requeuedAll: requeued)
        } catch let error as PostgresError where !error.isConnectionFailure {
            let queued = try db.query(
                "SELECT case_id FROM scorecard_dirty ORDER BY case_id LIMIT $1", [String(limit)],
                context: "queued scorecard cases")
            var done = Refreshed(taken: 0, setAside: [], requeuedAll: requeued)
            for id in (0..<queued.count).compactMap({ queued.string($0, 0) }) {
                do {
                    done.taken += try db.transaction {
                        let taken = try db.query(
                            "DELETE FROM scorecard_dirty WHERE case_id IN (SELECT case_id FROM scorecard_dirty WHERE case_id = $1 FOR UPDATE SKIP LOCKED) RETURNING case_id",
                            [id], context: "take a queued scorecard case")
                        guard taken.count > 0 else { return 0 }
                        try db.query(refreshSQL, [PostgresArray.text([id])], context: "recompute scorecard handlings")
                        return 1
                    }
                } catch let error as PostgresError where !error.isConnectionFailure {
                    try db.query("DELETE FROM scorecard_dirty WHERE case_id = $1", [id], context: "set a scorecard case aside")
                    done.taken += 1
                    done.setAside.append((id, error.message.split(separator: "\n").first.map(String.init) ?? ""))
                }
            }
            return done
        }
    }

    private static func refreshTogether(limit: Int, db: PostgresConnection) throws -> Int {
        try db.transaction {
            let taken = try db.query(
                """
                DELETE FROM scorecard_dirty WHERE case_id IN (
                    SELECT case_id FROM scorecard_dirty ORDER BY case_id LIMIT $1 FOR UPDATE SKIP LOCKED)
                RETURNING case_id
                """, [String(limit)], context: "take queued scorecard cases")
            guard taken.count > 0 else { return 0 }
            let ids = (0..<taken.count).compactMap { taken.string($0, 0) }
            try db.query(refreshSQL, [PostgresArray.text(ids)], context: "recompute scorecard handlings")
            return ids.count
        }
    }

    /// The queue is unlogged (migration 017): a crash of PostgreSQL, a promoted standby or a base
    /// backup leaves it empty, and with it its one-row witness `scorecard_queue_intact`. When
    /// the witness is missing, every case is queued again (the ones the reset lost are among
    /// them) and the witness put back, in one transaction; sessions that find it missing at
    /// once both queue, and the second's rows are already there. Returns whether it requeued.
    @discardableResult
    package static func requeueIfReset(db: PostgresConnection) throws -> Bool {
        let intact = try db.query("SELECT count(*) FROM scorecard_queue_intact", context: "scorecard queue witness")
        guard intact.int(0, 0) == 0 else { return false }
        try db.transaction {
            try db.query(
                "INSERT INTO scorecard_dirty (case_id) SELECT case_id FROM cases ON CONFLICT (case_id) DO NOTHING",
                context: "queue every case after the queue's reset")
            try db.query(
                "INSERT INTO scorecard_queue_intact DEFAULT VALUES ON CONFLICT (intact) DO NOTHING",
                context: "scorecard queue witness")
        }
        return true
    }

    /// Cases queued for a recomputation.
    package static func queued(db: PostgresConnection) throws -> Int {
        try db.query("SELECT count(*) FROM scorecard_dirty", context: "count queued scorecard cases").int(0, 0) ?? 0
    }

    /// For a session that recomputes or reads the handlings: JIT compiling these plans costs more
    /// than it saves.
    package static func prepareSession(_ db: PostgresConnection) throws {
        _ = try db.query("SELECT set_config('jit', 'off', false)", [], context: "scorecard session settings")
    }

    /// The counts of one unit of a level over the period (or, `byChannel`, of a level's
    /// handlings of one channel: `qr`, 码上反馈, or the others; `unitCode` is then nil). Each is
    /// defined in docs/SCORECARD.md.
    package struct UnitCounts: Sendable {
        package var level: String
        package var unitCode: String?
        package var assigned, evaluated, returned, returnedElsewhere, responded, responseBase, onTime, onTimeBase: Int
        package var overdue, escalatedAway, resolutionBase, resolved, callbacks, satisfied, replies, reopened: Int
        package var qr: Bool
        package var byChannel: Bool
    }

    /// One per (level, unit code) with a handling in the period, then one per (level, channel).
    /// Recomputes every queued case first (so the counts include every event applied before the
    /// call, but for the cases a daemon's scorecard worker is recomputing at that instant).
    /// Also returns the cases the drain set aside (`refresh`): the counts hold their earlier handlings.
    package static func counts(
        from: String, to: String, db: PostgresConnection
    ) throws -> (rows: [UnitCounts], setAside: [(caseId: String, problem: String)]) {
        // For this connection (the report's own): JIT compiling these plans costs more than it saves.
        _ = try db.query(
            "SELECT set_config('jit', 'off', false), set_config('work_mem', '64MB', false)", [],
            context: "scorecard settings")
        let setAside = try drain(db: db)
        let r = try db.query(countsSQL, [from, to], context: "scorecard counts")
        let rows = (0..<r.count).map { i in
            func n(_ column: Int) -> Int { r.int(i, column) ?? 0 }
            return UnitCounts(
                level: r.string(i, 0) ?? "?", unitCode: r.string(i, 1), assigned: n(2), evaluated: n(3), returned: n(4),
                returnedElsewhere: n(5), responded: n(6), responseBase: n(7), onTime: n(8), onTimeBase: n(9),
                overdue: n(10), escalatedAway: n(11), resolutionBase: n(12), resolved: n(13), callbacks: n(14),
                satisfied: n(15), replies: n(16), reopened: n(17), qr: r.bool(i, 18) == true, byChannel: r.bool(i, 19) == true)
        }
        return (rows, setAside)
    }

    /// Recomputes every queued case (but those another session is recomputing at that instant).
    /// Returns the cases set aside (`refresh`).
    @discardableResult
    package static func drain(db: PostgresConnection) throws -> [(caseId: String, problem: String)] {
        var setAside: [(caseId: String, problem: String)] = []
        while true {
            let r = try refresh(limit: refreshBatch, db: db)
            setAside += r.setAside
            if r.taken < refreshBatch { return setAside }
        }
    }

    /// Cases recomputed per transaction.
    package static let refreshBatch = 2000

    /// Code and name of each unit of `codes`: the most frequent name the unit goes by, among the
    /// cases it holds now, the escalations it received and what the feeds taught (`learned_units`).
    package static func unitNames(codes: [String], db: PostgresConnection) throws -> [String: String] {
        guard !codes.isEmpty else { return [:] }
        let r = try db.query(
            """
            SELECT DISTINCT ON (code) code, name FROM (
                SELECT code, name, count(*) AS uses FROM (
                    SELECT unit_code AS code, unit_name AS name FROM cases WHERE unit_code = ANY($1::text[])
                    UNION ALL
                    SELECT to_unit_code, to_unit_name FROM sla_decisions
                    WHERE type = 'gridloop.case.escalated' AND to_unit_code = ANY($1::text[])
                    UNION ALL
                    SELECT unit_code, unit_name FROM learned_units WHERE unit_code = ANY($1::text[])) n
                WHERE name IS NOT NULL AND name <> ''
                GROUP BY code, name) counted
            -- The most frequent; of equally frequent names, the first in order.
            ORDER BY code, uses DESC, name
            """, [PostgresArray.text(codes)], context: "scorecard unit names")
        var names: [String: String] = [:]
        for i in 0..<r.count { if let code = r.string(i, 0), let name = r.string(i, 1) { names[code] = name } }
        return names
    }
}
