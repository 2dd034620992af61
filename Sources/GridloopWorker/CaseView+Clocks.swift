import GridloopCore
import GridloopPostgres

// `case show`: the case's SLA clocks with deadlines and the share of each limit used, and the
// events the ladder emitted for it (from `sla_decisions`, with the outbox's publication state).
extension CaseView {
    public struct ClockView: Codable, Sendable {
        public var kind: String
        public var level: String
        public var limit: String
        /// running, warned (warning emitted), overdue (overdue emitted), stopped (signed/replied), suspended
        public var state: String
        public var deadline: String?
        public var warningAt: String?
        /// Countable time used over the limit's budget, at `asOf` (1.0 = the limit is reached).
        public var usedShare: Double?
        public var urges: Int
    }

    public struct Emitted: Codable, Sendable {
        public var id: String
        public var type: String
        public var level: String
        public var toLevel: String?
        public var time: String
        public var topic: String?
        public var publishedAt: String?
    }

    /// Adds the clocks (computed with `keeper` at `now`, epoch ms) and the emitted events.
    public mutating func loadSLA(from db: PostgresConnection, keeper: ClockKeeper, now: Int64) throws {
        asOf = RFC3339.format(now)
        let c = try db.query("SELECT clock::text FROM case_clocks WHERE case_id = $1", [caseId], context: "read clocks")
        if c.count == 1 {
            let clock = try CaseClock(json: Array((c.string(0, 0) ?? "").utf8))
            for kind in ClockKind.allCases {
                guard let k = clock[kind] else { continue }
                let used = keeper.calculator.counted(start: clock.assignedAt, until: now, unit: k.limit.unit,
                                                     suspensions: clock.suspensions)
                var state: String
                switch k.stage {
                case .running: state = "running"
                case .warned: state = "warned"
                case .overdue: state = "overdue"
                }
                if clock.closed || (kind == .sign && signedAt != nil) || (kind == .handle && clock.replied) { state = "stopped" }
                if clock.isSuspended { state = "suspended" }
                if clock.awaitingRedispatch { state = "returned" }
                clocks.append(ClockView(
                    kind: kind.rawValue, level: clock.level.rawValue, limit: k.limit.description, state: state,
                    deadline: k.deadline.map { RFC3339.format($0) }, warningAt: k.warningAt.map { RFC3339.format($0) },
                    usedShare: k.limit.budgetMillis > 0 ? (Double(used) / Double(k.limit.budgetMillis) * 1000).rounded() / 1000 : nil,
                    urges: k.urges))
            }
        }
        let e = try db.query("""
            SELECT d.id, d.type, d.level, d.to_level, \(Self.t("d.decided_at")), o.topic, \(Self.t("o.sent_at"))
            FROM sla_decisions d LEFT JOIN outbox o ON o.id = d.id
            WHERE d.case_id = $1 ORDER BY d.decided_at, d.id
            """, [caseId], context: "read emitted events")
        emitted = (0..<e.count).map { i in
            Emitted(id: e.string(i, 0)!, type: e.string(i, 1)!, level: e.string(i, 2)!, toLevel: e.string(i, 3),
                    time: e.string(i, 4)!, topic: e.string(i, 5), publishedAt: e.string(i, 6))
        }
    }

    func clocksText() -> String {
        guard !clocks.isEmpty else { return "" }
        var out = "\n\nclocks at \(clocks[0].level) (as of \(asOf ?? "now")):"
        for c in clocks {
            let share = c.usedShare.map { "\(Int(($0 * 100).rounded()))% used" } ?? ""
            out += "\n  \(c.kind.rightPad(6)) \(c.limit.rightPad(5)) \(c.state.rightPad(9)) deadline \(c.deadline ?? "-")  "
                + "warning \(c.warningAt ?? "-")  \(share)\(c.urges > 0 ? "  urged \(c.urges)x" : "")"
        }
        return out
    }

    func emittedText() -> String {
        guard !emitted.isEmpty else { return "" }
        var out = "\n\nemitted:"
        for e in emitted {
            let what = e.type.replacingOccurrences(of: "gridloop.case.", with: "") + (e.toLevel.map { " → \($0)" } ?? "")
            out += "\n  \(e.time)  \(what.rightPad(30)) at \(e.level.rightPad(9)) \(e.publishedAt == nil ? "not published yet" : "published")  \(e.id)"
        }
        return out
    }
}
