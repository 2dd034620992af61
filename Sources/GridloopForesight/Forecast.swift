import Foundation
import GridloopAnalytics
import GridloopCore
import GridloopSettings
import GridloopStore
import GridloopViews

/// The at-risk forecast (docs/FORECAST.md): every open sign or handle clock whose deadline falls
/// within a window, with the probability that it breaches, from the units' own history
/// (`BreachForecaster`); per unit the expected breaches (the sum of the probabilities).
public struct Forecast: Encodable, Sendable {
    /// One open clock due in the window.
    public struct AtRisk: Encodable, Sendable {
        public var caseId: String
        public var level: String
        public var unitCode: String
        /// SIGN or HANDLE.
        public var clock: String
        public var deadline: String
        /// Share of the limit's countable time used at the forecast's instant.
        public var used: Double
        /// nil when there is no history at the level (basis NONE).
        public var probability: Double?
        /// UNIT, LEVEL_CATEGORY, LEVEL, BEYOND_HISTORY or NONE.
        public var basis: String
        /// Handlings of the history the estimate rests on.
        public var handlings: Int
        var deadlineMillis: Int64

        enum CodingKeys: String, CodingKey {
            case caseId, level, unitCode, clock, deadline, used, probability, basis, handlings
        }

        /// Every key always present: a probability without history is null.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(caseId, forKey: .caseId)
            try c.encode(level, forKey: .level)
            try c.encode(unitCode, forKey: .unitCode)
            try c.encode(clock, forKey: .clock)
            try c.encode(deadline, forKey: .deadline)
            try c.encode(used, forKey: .used)
            try c.encode(probability, forKey: .probability)
            try c.encode(basis, forKey: .basis)
            try c.encode(handlings, forKey: .handlings)
        }
    }

    public struct UnitRisk: Encodable, Sendable {
        public var level: String
        public var unitCode: String
        /// null when no name is known.
        public var unitName: String?
        public var expectedBreaches: Double
        /// By probability, highest first.
        public var cases: [AtRisk]

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(level, forKey: .level)
            try c.encode(unitCode, forKey: .unitCode)
            try c.encode(unitName, forKey: .unitName)
            try c.encode(expectedBreaches, forKey: .expectedBreaches)
            try c.encode(cases, forKey: .cases)
        }
        enum CodingKeys: String, CodingKey { case level, unitCode, unitName, expectedBreaches, cases }
    }

    public struct LevelRisk: Encodable, Sendable {
        public var level: String
        public var clocks: Int
        public var expectedBreaches: Double
    }

    /// The instant forecast from (RFC 3339).
    public var at: String
    /// The window, in each clock's countable time (`8h`, `1wd`, ...).
    public var within: String
    /// CLOCKS: the clocks as the daemon keeps them now; HISTORY: the handlings open at a past
    /// instant (`--at`), their deadlines computed from the assignment by the policy in force.
    public var clocks: String
    public var historyDays: Int
    public var minHandlings: Int
    /// The most handlings read (the latest of the window); `handlings` equal to it: capped.
    public var historyMaxHandlings: Int
    /// Handlings in the history.
    public var handlings: Int
    public var levels: [LevelRisk]
    /// By expected breaches, highest first.
    public var units: [UnitRisk]

    enum CodingKeys: String, CodingKey {
        case at, within, clocks, historyDays, minHandlings, historyMaxHandlings, handlings, levels, units
    }

    /// How the history is turned into the estimator's handlings (`ForecastModel.Inputs`).
    public typealias Inputs = ForecastModel.Inputs

    /// The forecast at `inputs.at`: from the daemon's clocks when `asOfNow`, else from the
    /// handlings as they stood at that instant (nothing after it is read into the history or
    /// the open clocks). Lists every clock in the window: a command's answer.
    public static func load(
        _ inputs: Inputs, asOfNow: Bool, level: LoopLevel? = nil, unit: String? = nil, db: Database
    ) throws -> Forecast {
        try ScorecardQueries.prepareSession(db)
        try ScorecardQueries.drain(db: db)  // the handlings as of every event applied so far
        let model = try ForecastModel.load(inputs, db: db)
        var risks: [AtRisk] = []
        let keep: (ForecastModel.ClockRisk) -> Void = { r in
            risks.append(
                AtRisk(
                    caseId: r.caseId, level: r.level.rawValue, unitCode: r.unitCode, clock: r.kind.rawValue,
                    deadline: RFC3339.format(r.deadline), used: r.used, probability: r.probability, basis: r.basis,
                    handlings: r.handlings, deadlineMillis: r.deadline))
        }
        if asOfNow {
            try model.openClocks(level: level, unit: unit, db: db, keep)
        } else {
            try model.openAt(level: level, unit: unit, db: db, keep)
        }
        let at = inputs.at
        var byUnit: [String: [AtRisk]] = [:]
        for r in risks { byUnit["\(r.level)\u{0}\(r.unitCode)", default: []].append(r) }
        let names = try ScorecardQueries.unitNames(codes: Array(Set(risks.map(\.unitCode))).sorted(), db: db)
        var units = byUnit.values.map { cases -> UnitRisk in
            let sorted = cases.sorted {
                ($0.probability ?? -1, -$0.deadlineMillis, $0.caseId) > ($1.probability ?? -1, -$1.deadlineMillis, $1.caseId)
            }
            return UnitRisk(
                level: sorted[0].level, unitCode: sorted[0].unitCode, unitName: names[sorted[0].unitCode],
                expectedBreaches: sorted.reduce(0) { $0 + ($1.probability ?? 0) }, cases: sorted)
        }
        units.sort {
            ($0.expectedBreaches, LoopLevel(rawValue: $1.level)?.rank ?? 0, $1.unitCode)
                > ($1.expectedBreaches, LoopLevel(rawValue: $0.level)?.rank ?? 0, $0.unitCode)
        }
        let levels = LoopLevel.allCases.compactMap { lv -> LevelRisk? in
            let here = risks.filter { $0.level == lv.rawValue }
            guard !here.isEmpty else { return nil }
            return LevelRisk(
                level: lv.rawValue, clocks: here.count, expectedBreaches: here.reduce(0) { $0 + ($1.probability ?? 0) })
        }
        return Forecast(
            at: RFC3339.format(at), within: inputs.window.description, clocks: asOfNow ? "CLOCKS" : "HISTORY",
            historyDays: inputs.historyDays, minHandlings: inputs.minHandlings, historyMaxHandlings: inputs.maxHandlings,
            handlings: model.handlings, levels: levels,
            units: units)
    }

    /// `forecast.historyMaxHandlings`'s default.
    public static let defaultMaxHandlings = ForecastModel.defaultMaxHandlings

    /// Every clock of the forecast, highest probability first.
    public var allAtRisk: [AtRisk] { units.flatMap(\.cases) }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public func text() -> String {
        func pct(_ p: Double?) -> String { p.map { String(format: "%.0f%%", $0 * 100) } ?? "-" }
        var out =
            "at-risk forecast at \(at), clocks due within \(within) of countable time "
            + "(history: \(handlings) handlings of the \(historyDays) days before"
            + (handlings >= historyMaxHandlings ? ", the latest only (forecast.historyMaxHandlings); " : "; ")
            + (clocks == "CLOCKS"
                ? "open clocks as the daemon keeps them)" : "handlings open then, deadlines by the policy in force)")
        if units.isEmpty { return out + "\n\nno open clock is due within \(within)" }
        out += "\n\n\("LEVEL".rightPad(10)) \("CLOCKS".leftPad(7)) \("EXPECTED BREACHES".leftPad(18))"
        for l in levels {
            out +=
                "\n\(l.level.rightPad(10)) \(String(l.clocks).leftPad(7)) \(String(format: "%.1f", l.expectedBreaches).leftPad(18))"
        }
        for u in units {
            out +=
                "\n\n\(u.level) \(u.unitCode)\(u.unitName.map { " \($0)" } ?? ""): expected breaches "
                + String(format: "%.2f", u.expectedBreaches) + " of \(u.cases.count)"
            out +=
                "\n  \("CASE".rightPad(24)) \("CLOCK".rightPad(6)) \("DEADLINE".rightPad(25)) \("USED".leftPad(5)) "
                + "\("P(BREACH)".leftPad(9))  ESTIMATE"
            for c in u.cases {
                out +=
                    "\n  \(c.caseId.rightPad(24)) \(c.clock.rightPad(6)) \(c.deadline.rightPad(25)) \(pct(c.used).leftPad(5)) "
                    + "\(pct(c.probability).leftPad(9))  \(c.basis)" + (c.handlings > 0 ? " (\(c.handlings))" : "")
            }
        }
        return out
    }
}
