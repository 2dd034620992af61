import GridloopCore
import GridloopStore

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
        /// The share of the limit used at `asOf`: countable time (working time for working-day
        /// and working-hour limits, suspensions not counted) since the assignment, over the
        /// countable time from the assignment to the deadline in force. 1.0 = the deadline.
        public var usedShare: Double?
        public var urges: Int
        /// The version of the SLA policy the assignment's clocks started under (null: written
        /// before versions were recorded), and that version's file as the daemon recorded it
        /// (null: not recorded yet).
        public var policyVersion: String?
        public var policySource: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(kind, forKey: .kind)
            try c.encode(level, forKey: .level)
            try c.encode(limit, forKey: .limit)
            try c.encode(state, forKey: .state)
            try c.encode(deadline, forKey: .deadline)
            try c.encode(warningAt, forKey: .warningAt)
            try c.encode(usedShare, forKey: .usedShare)
            try c.encode(urges, forKey: .urges)
            try c.encode(policyVersion, forKey: .policyVersion)
            try c.encode(policySource, forKey: .policySource)
        }
    }

    public struct Emitted: Codable, Sendable {
        public var id: String
        public var type: String
        public var level: String
        public var toLevel: String?
        public var time: String
        public var topic: String?
        /// Whether the relay has published it (false: still in the outbox).
        public var published: Bool
        /// The unit that held the case (whose clock it was; for an escalation, the unit it left).
        public var unitCode: String?
        /// An escalation's receiving unit, `CODE NAME`, and how it was found.
        public var toUnit: String?
        public var resolvedBy: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(type, forKey: .type)
            try c.encode(level, forKey: .level)
            try c.encode(toLevel, forKey: .toLevel)
            try c.encode(time, forKey: .time)
            try c.encode(topic, forKey: .topic)
            try c.encode(published, forKey: .published)
            try c.encode(unitCode, forKey: .unitCode)
            try c.encode(toUnit, forKey: .toUnit)
            try c.encode(resolvedBy, forKey: .resolvedBy)
        }
    }

    /// Adds the clocks (computed with `keeper` at `now`, epoch ms) and the emitted events.
    public mutating func loadSLA(from db: Database, keeper: ClockKeeper, now: Int64) throws {
        asOf = RFC3339.format(now)
        if let clock = try CaseQueries.clock(caseId: caseId, from: db) {
            let recorded = try clock.policyVersion.map { try PolicyVersionQueries.described([$0], db: db)[$0] } ?? nil
            for kind in ClockKind.allCases {
                guard let k = clock[kind] else { continue }
                let calc = keeper.calculator
                let used = calc.counted(start: clock.assignedAt, until: now, unit: k.limit.unit, suspensions: clock.suspensions)
                // The deadline in force may be the platform's (earlier) or extended: measure against it.
                let whole =
                    k.deadline.map {
                        calc.counted(start: clock.assignedAt, until: $0, unit: k.limit.unit, suspensions: clock.suspensions)
                    } ?? k.limit.budgetMillis
                var state: String
                switch k.stage {
                case .running: state = "running"
                case .warned: state = "warned"
                case .overdue: state = "overdue"
                }
                if clock.closed || (kind == .sign && signedAt != nil) || (kind == .handle && clock.replied) { state = "stopped" }
                if clock.isSuspended { state = "suspended" }
                if clock.awaitingRedispatch { state = "returned" }
                clocks.append(
                    ClockView(
                        kind: kind.rawValue, level: clock.level.rawValue, limit: k.limit.description, state: state,
                        deadline: k.deadline.map { RFC3339.format($0) }, warningAt: k.warningAt.map { RFC3339.format($0) },
                        usedShare: whole > 0 ? (Double(used) / Double(whole) * 1000).rounded() / 1000 : nil,
                        urges: k.urges, policyVersion: clock.policyVersion,
                        policySource: recorded.map { "\($0.source), first used \($0.firstUsed)" }))
            }
        }
        emitted = try CaseQueries.emitted(caseId: caseId, from: db).map { e in
            Emitted(
                id: e.id, type: e.type, level: e.level, toLevel: e.toLevel, time: e.decidedAt, topic: e.topic,
                published: e.published, unitCode: e.unitCode, toUnit: e.toUnitCode.map { "\($0) \(e.toUnitName ?? "")" },
                resolvedBy: e.resolvedBy)
        }
    }

    func clocksText() -> String {
        guard !clocks.isEmpty else {
            guard asOf != nil else { return "" }
            let why =
                status == "CLOSED" || status == "WITHDRAWN"
                ? "the case is \(status.lowercased())"
                : status == "REPLIED"
                    ? "replied, awaiting the callback"
                    : status == "RETURNED"
                        ? "returned, awaiting a redispatch"
                        : "none running"
            return "\n\nclocks: none (\(why))"
        }
        var out = "\n\nclocks at \(clocks[0].level) (as of \(asOf ?? "now")):"
        if let v = clocks[0].policyVersion {
            out += "\n  policy version \(v) (\(clocks[0].policySource ?? "not recorded yet"))"
        }
        for c in clocks {
            let share = c.usedShare.map { "\(Int(($0 * 100).rounded()))% used" } ?? ""
            out +=
                "\n  \(c.kind.rightPad(6)) \(c.limit.rightPad(5)) \(c.state.rightPad(9)) deadline \(c.deadline ?? "-")  "
                + "warning \(c.warningAt ?? "-")  \(share)\(c.urges > 0 ? "  urged \(c.urges)x" : "")"
        }
        return out
    }

    func emittedText() -> String {
        guard !emitted.isEmpty else { return "" }
        var out = "\n\nemitted:"
        for e in emitted {
            let what = OutboundEvent.shortType(e.type) + (e.toLevel.map { " → \($0)" } ?? "")
            let unit = e.unitCode.map { " (\($0))" } ?? ""
            let to = e.toUnit.map { "; to \($0), by \(e.resolvedBy ?? "?")" } ?? ""
            out +=
                "\n  \(e.time)  \(what.rightPad(30)) at \(e.level)\(unit)\(to)  "
                + "\(e.published ? "published" : "not published yet")  \(e.id)"
        }
        return out
    }
}
