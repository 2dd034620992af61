import GridloopCore
import GridloopStore

// Each unit's composite over the last months, for the HTML page's trend lines: the scorecard of
// each earlier month computed as the period's own (same definitions, same weights).
extension Scorecard {
    /// The `count` months ending with the month of `to` (`YYYY-MM`, oldest first).
    static func months(endingWith to: String, count: Int) -> [String] {
        guard let last = LocalDate(to) else { return [] }
        var (y, m, _) = last.civil
        var out: [String] = []
        for _ in 0..<count {
            out.append(String(format: "%04d-%02d", y, m))
            (y, m) = m == 1 ? (y - 1, 12) : (y, m - 1)
        }
        return out.reversed()
    }

    /// First and last day (`YYYY-MM-DD`) of `YYYY-MM`.
    public static func monthBounds(_ month: String) -> (from: String, to: String)? {
        let parts = month.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2 else { return nil }
        let p = parts.compactMap { Int($0) }
        guard p.count == 2, let first = LocalDate(year: p[0], month: p[1], day: 1) else { return nil }
        let next = p[1] == 12 ? LocalDate(year: p[0] + 1, month: 1, day: 1)! : LocalDate(year: p[0], month: p[1] + 1, day: 1)!
        let last = LocalDate(day: next.day - 1)
        func text(_ d: LocalDate) -> String {
            let c = d.civil
            return String(format: "%04d-%02d-%02d", c.year, c.month, c.day)
        }
        return (text(first), text(last))
    }

    /// Fills `trendMonths` and `trend`: the composite of every unit of this scorecard in each of
    /// the `count` months ending with the month of `to` (the last point is that whole month's,
    /// which is this scorecard's own figure when the period is that month).
    public mutating func loadTrend(count: Int = 6, evaluation: EvaluationPolicy, db: Database) throws {
        let months = Self.months(endingWith: to, count: count)
        var trend: [String: [Double?]] = [:]
        for u in units { trend["\(u.level)|\(u.unitCode)"] = Array(repeating: nil, count: months.count) }
        for (i, month) in months.enumerated() {
            guard let (a, b) = Self.monthBounds(month) else { continue }
            let card =
                (a == from && b == to)
                ? self : try Scorecard.load(from: a, to: b, evaluation: evaluation, asOf: asOf, db: db)
            for u in card.units where trend["\(u.level)|\(u.unitCode)"] != nil {
                trend["\(u.level)|\(u.unitCode)"]![i] = u.composite
            }
        }
        trendMonths = months
        self.trend = trend
    }
}
