import GridloopCore
import GridloopSettings
import GridloopStore

/// The at-risk forecast's computation (docs/FORECAST.md), for the daemon's gauge and digest and
/// for `gridloopd forecast`: the history of handlings turned into the estimator's durations
/// (`BreachForecaster`, Core), then each open sign or handle clock due within the window with
/// its probability of breaching, handed to the caller one at a time. Nothing here keeps the
/// clocks: the caller aggregates as they come (the gauge sums, the digest keeps a unit's clocks
/// at risk, the command lists them), so its memory is the history's (at most
/// `forecast.historyMaxHandlings` handlings) and one page of rows.
public struct ForecastModel: Sendable {
    /// How the history is turned into the estimator's handlings.
    public struct Inputs: Sendable {
        public var policy: SLAPolicy
        public var calendar: WorkingCalendar
        public var at: Int64
        public var window: TimeLimit
        public var historyDays: Int
        public var minHandlings: Int
        /// At most this many handlings, the latest of the window, are read: the forecast's memory
        /// grows with them (two estimator entries a handling, about 200 bytes each;
        /// docs/FORECAST.md).
        public var maxHandlings: Int
        public init(
            policy: SLAPolicy, calendar: WorkingCalendar, at: Int64, window: TimeLimit, historyDays: Int = 90,
            minHandlings: Int = 20, maxHandlings: Int = ForecastModel.defaultMaxHandlings
        ) {
            self.maxHandlings = maxHandlings
            self.policy = policy
            self.calendar = calendar
            self.at = at
            self.window = window
            self.historyDays = historyDays
            self.minHandlings = minHandlings
        }
    }

    /// One open clock due in the window, with its estimate.
    public struct ClockRisk: Sendable {
        public var caseId: String
        public var level: LoopLevel
        public var unitCode: String
        public var kind: ClockKind
        public var deadline: Int64
        /// Share of the limit's countable time used at the forecast's instant.
        public var used: Double
        /// nil when there is no history at the level (basis NONE).
        public var probability: Double?
        /// UNIT, LEVEL_CATEGORY, LEVEL, BEYOND_HISTORY or NONE.
        public var basis: String
        /// Handlings of the history the estimate rests on.
        public var handlings: Int
    }

    /// `forecast.historyMaxHandlings`'s default.
    public static let defaultMaxHandlings = GridloopConfig().forecastHistoryMaxHandlings
    /// Rows read from PostgreSQL at a time (a cursor's page): the rows of the history and of the
    /// open clocks are never all in memory at once. 2,000 rows of clocks are about 1.5 MB.
    public static let pageSize = 2_000

    public let inputs: Inputs
    /// Handlings in the history.
    public let handlings: Int
    /// The end of the window (epoch ms).
    public let windowEnd: Int64
    private let calculator: DeadlineCalculator
    private let forecaster: BreachForecaster

    /// Reads the history (the handlings of `historyDays` before `inputs.at`, the latest
    /// `maxHandlings`, in pages) and builds the estimator. The caller brings
    /// `scorecard_handlings` up to date first if it needs to (the command drains the queue; the
    /// daemon's scorecard task keeps it current).
    public static func load(_ inputs: Inputs, db: Database) throws -> ForecastModel {
        let at = inputs.at
        let calculator = DeadlineCalculator(calendar: inputs.calendar)
        var history: [BreachForecaster.Handling] = []
        var count = 0
        try ForecastQueries.handlings(
            from: at - Int64(inputs.historyDays) * LocalDate.dayMillis, until: at, limit: inputs.maxHandlings,
            pageSize: pageSize, db: db
        ) { page in
            count += page.count  // appended as they come (a reserve per page would copy the history each page)
            for h in page {
                let (lv, unitCode, began, category) = (h.level, h.unitCode, h.began, h.category)
                let limits = inputs.policy.limits(level: lv, source: h.source, urgency: h.urgency, categoryCode: category)
                // What was known at `at`: a milestone or an end after it had not happened yet.
                func known(_ instant: Int64?) -> Int64? { instant.flatMap { $0 <= at ? $0 : nil } }
                let replied = known(h.replied)
                let signed = [known(h.signed), replied].compactMap { $0 }.min()  // a reply stops the sign clock too
                let watchedUntil = known(h.ended) ?? at
                for kind in ClockKind.allCases {
                    let milestone = kind == .sign ? signed : replied
                    let end = milestone ?? watchedUntil
                    let time = calculator.counted(start: began, until: end, unit: limits[kind].unit)
                    history.append(
                        BreachForecaster.Handling(
                            level: lv, unitCode: unitCode, categoryCode: category, kind: kind,
                            observation: SurvivalCurve.Observation(time: time, reached: milestone != nil)))
                }
            }
        }
        return ForecastModel(
            inputs: inputs, handlings: count, windowEnd: calculator.windowEnd(from: at, within: inputs.window) ?? at,
            calculator: calculator, forecaster: BreachForecaster(history: history, minHandlings: inputs.minHandlings))
    }

    /// The estimate of one clock, or nil when it is not in the window (already past its
    /// deadline, or due after the window).
    func risk(
        caseId: String, level: LoopLevel, unitCode: String, category: String, kind: ClockKind, start: Int64,
        limit: TimeLimit, deadline: Int64, suspensions: [Suspension]
    ) -> ClockRisk? {
        let at = inputs.at
        guard deadline > at else { return nil }  // already past: overdue, not a forecast
        guard deadline <= windowEnd else { return nil }
        let used = calculator.counted(start: start, until: at, unit: limit.unit, suspensions: suspensions)
        let budget = calculator.counted(start: start, until: deadline, unit: limit.unit, suspensions: suspensions)
        let e = forecaster.estimate(
            level: level, unitCode: unitCode, categoryCode: category, kind: kind, used: used, budget: budget)
        return ClockRisk(
            caseId: caseId, level: level, unitCode: unitCode, kind: kind, deadline: deadline,
            used: budget > 0 ? Double(used) / Double(budget) : 1, probability: e.probability, basis: e.basis.rawValue,
            handlings: e.handlings)
    }

    /// The daemon's clocks as they are now, those due within the window (read by their next due
    /// instant, in pages), each handed to `visit`.
    public func openClocks(
        level: LoopLevel? = nil, unit: String? = nil, db: Database, _ visit: (ClockRisk) throws -> Void
    ) throws {
        try ForecastQueries.openClocks(dueBy: windowEnd, pageSize: Self.pageSize, db: db) { page in
            for open in page {
                let (caseId, clock, unitCode) = (open.caseId, open.clock, open.unitCode)
                if let level, clock.level != level { continue }
                if let unit, unitCode != unit { continue }
                for kind in ClockKind.allCases {
                    guard let k = clock[kind], k.stage != .overdue, let deadline = k.deadline,
                        let r = risk(
                            caseId: caseId, level: clock.level, unitCode: unitCode, category: open.category,
                            kind: kind, start: clock.assignedAt, limit: k.limit, deadline: deadline,
                            suspensions: clock.suspensions)
                    else { continue }
                    try visit(r)
                }
            }
        }
    }

    /// The handlings open at the instant (`--at`), their deadlines computed from the assignment
    /// by the policy in force, each clock due within the window handed to `visit`.
    public func openAt(
        level: LoopLevel? = nil, unit: String? = nil, db: Database, _ visit: (ClockRisk) throws -> Void
    ) throws {
        let at = inputs.at
        try ForecastQueries.openAt(at, pageSize: Self.pageSize, db: db) { page in
            for open in page {
                let h = open.handling
                let (caseId, lv, unitCode, began, category) = (open.caseId, h.level, h.unitCode, h.began, h.category)
                if let level, lv != level { continue }
                if let unit, unitCode != unit { continue }
                let limits = inputs.policy.limits(level: lv, source: h.source, urgency: h.urgency, categoryCode: category)
                let signed = h.signed.map { $0 <= at } ?? false
                for kind in ClockKind.allCases where kind == .handle || !signed {
                    guard let deadline = calculator.deadline(start: began, limit: limits[kind]).deadline,
                        let r = risk(
                            caseId: caseId, level: lv, unitCode: unitCode, category: category, kind: kind, start: began,
                            limit: limits[kind], deadline: deadline, suspensions: [])
                    else { continue }
                    try visit(r)
                }
            }
        }
    }

    /// The digest's window, and the gauge's: to the end of the working day.
    public static let dayWindow = TimeLimit(amount: 1, unit: .workingDays)
}
