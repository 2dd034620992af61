/// A budget of countable time (`45s`, `30m`, `2h`, `3d` natural time; `3wd` working days;
/// `4wh` working hours), as written in the policy and in `gridloopd deadline --limit`.
public struct TimeLimit: Sendable, Hashable, CustomStringConvertible {
    public enum Unit: String, Sendable, Hashable, CaseIterable {
        case seconds = "s"
        case minutes = "m"
        case hours = "h"
        case days = "d"
        case workingDays = "wd"
        case workingHours = "wh"
    }

    public var amount: Int
    public var unit: Unit

    public init(amount: Int, unit: Unit) {
        self.amount = amount
        self.unit = unit
    }

    /// Parses `3wd`, `4wh`, `45s`, `30m`, `2h`, `3d`; nil for anything else.
    public init?(_ text: String) {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let n = Int(digits), n >= 0, let u = Unit(rawValue: String(text.dropFirst(digits.count)))
        else { return nil }
        self.init(amount: n, unit: u)
    }

    public var description: String { "\(amount)\(unit.rawValue)" }

    /// The budget in milliseconds of countable time.
    public var budgetMillis: Int64 {
        let n = Int64(amount)
        switch unit {
        case .seconds: return n * 1000
        case .minutes: return n * 60_000
        case .hours, .workingHours: return n * 3_600_000
        case .days, .workingDays: return n * 86_400_000
        }
    }

    /// The same unit, more of it (an approved extension adds in the limit's unit).
    public func extended(by extra: Int) -> TimeLimit { TimeLimit(amount: amount + extra, unit: unit) }
}

/// A span during which a clock does not count (挂起 SUSPEND … RESUME); `to` nil while still suspended.
public struct Suspension: Sendable, Hashable, Codable {
    public var from: Int64
    public var to: Int64?
    public init(from: Int64, to: Int64?) {
        self.from = from
        self.to = to
    }
}

/// Where a limit ends: the first instant at which the counted time since the start reaches the budget.
public struct DeadlineCalculator: Sendable {
    public var calendar: WorkingCalendar

    public init(calendar: WorkingCalendar) { self.calendar = calendar }

    /// The result of a deadline computation.
    public struct Result: Sendable, Hashable {
        /// Epoch milliseconds; nil while an open suspension stops the clock.
        public var deadline: Int64?
        /// Dates counted Monday–Friday because their year has no official calendar.
        public var fallbackDates: [LocalDate]
    }

    /// The deadline of `limit` started at `start` (epoch ms), not counting `suspensions`.
    public func deadline(start: Int64, limit: TimeLimit, suspensions: [Suspension] = []) -> Result {
        deadline(start: start, unit: limit.unit, budgetMillis: limit.budgetMillis, suspensions: suspensions)
    }

    /// The instant at which `share` (0–1) of `limit` is used: where a warning falls.
    public func instant(start: Int64, limit: TimeLimit, share: Double, suspensions: [Suspension] = []) -> Result {
        let budget = Int64((Double(limit.budgetMillis) * share).rounded(.down))
        return deadline(start: start, unit: limit.unit, budgetMillis: budget, suspensions: suspensions)
    }

    /// The first instant at which `budgetMillis` of time countable in `unit` has passed since `start`.
    public func deadline(start: Int64, unit: TimeLimit.Unit, budgetMillis: Int64, suspensions: [Suspension] = []) -> Result {
        let limit = TimeLimit(amount: 0, unit: unit)
        var remaining = budgetMillis
        var fallbacks: [LocalDate] = []
        let pauses = suspensions.sorted { $0.from < $1.from }
        var date = LocalDate(containing: start)
        if limit.unit == .workingDays { date = LocalDate(day: date.day + 1) }
        if remaining == 0 { return Result(deadline: start, fallbackDates: []) }
        // Walk day by day through the countable windows (at most a few years of days).
        for _ in 0..<(366 * 20) {
            if limit.unit == .workingDays || limit.unit == .workingHours, calendar.isFallback(date), !fallbacks.contains(date) {
                fallbacks.append(date)
            }
            for w in windows(on: date, unit: limit.unit) {
                let lower = max(w.lowerBound, start)
                guard lower < w.upperBound else { continue }
                // Subtract the pauses from [lower, upper): count the free pieces in order.
                var cursor = lower
                for p in pauses {
                    let pEnd = p.to ?? Int64.max
                    guard pEnd > cursor, p.from < w.upperBound else { continue }
                    if p.from > cursor {
                        let piece = p.from - cursor
                        if piece >= remaining { return Result(deadline: cursor + remaining, fallbackDates: fallbacks) }
                        remaining -= piece
                    }
                    if p.to == nil { return Result(deadline: nil, fallbackDates: fallbacks) }
                    cursor = max(cursor, pEnd)
                    if cursor >= w.upperBound { break }
                }
                if cursor < w.upperBound {
                    let piece = w.upperBound - cursor
                    if piece >= remaining { return Result(deadline: cursor + remaining, fallbackDates: fallbacks) }
                    remaining -= piece
                }
            }
            date = LocalDate(day: date.day + 1)
        }
        return Result(deadline: nil, fallbackDates: fallbacks)
    }

    /// The time countable in `unit` from `start` to `end` (epoch ms), not counting `suspensions`:
    /// how much of a limit's budget is used at `end`.
    public func counted(start: Int64, until end: Int64, unit: TimeLimit.Unit, suspensions: [Suspension] = []) -> Int64 {
        guard end > start else { return 0 }
        var total: Int64 = 0
        var date = LocalDate(containing: start)
        if unit == .workingDays { date = LocalDate(day: date.day + 1) }
        while date.startMillis < end {
            for w in windows(on: date, unit: unit) {
                let lower = max(w.lowerBound, start)
                let upper = min(w.upperBound, end)
                guard lower < upper else { continue }
                total += upper - lower
                for p in suspensions {
                    let overlap = min(upper, p.to ?? Int64.max) - max(lower, p.from)
                    if overlap > 0 { total -= overlap }
                }
            }
            date = LocalDate(day: date.day + 1)
        }
        return max(0, total)
    }

    /// The countable windows of one local day for `unit`.
    private func windows(on date: LocalDate, unit: TimeLimit.Unit) -> [Range<Int64>] {
        let dayStart = date.startMillis
        switch unit {
        case .seconds, .minutes, .hours, .days:
            return [dayStart..<(dayStart + LocalDate.dayMillis)]
        case .workingDays, .workingHours:
            if !calendar.isWorkingDay(date) { return [] }
            if unit == .workingDays { return [dayStart..<(dayStart + LocalDate.dayMillis)] }
            return calendar.officeHours.map {
                (dayStart + Int64($0.lowerBound) * 60_000)..<(dayStart + Int64($0.upperBound) * 60_000)
            }
        }
    }
}

extension DeadlineCalculator {
    /// The end of a look-ahead window of `within` from `at` (the forecast's `--within`): `at` plus
    /// the time for natural units; for `wh`, the instant when that many office hours have passed
    /// from `at`; for `wd`, 24:00 of the n-th working day counting `at`'s own day when it is one
    /// (`1wd` at 08:30 on a working day: until midnight).
    public func windowEnd(from at: Int64, within: TimeLimit) -> Int64? {
        switch within.unit {
        case .seconds, .minutes, .hours, .days:
            return at + within.budgetMillis
        case .workingHours:
            return deadline(start: at, limit: within).deadline
        case .workingDays:
            // Counting whole working days from the day after the start: start on the day before.
            return deadline(start: LocalDate(containing: at).startMillis - 1, limit: within).deadline
        }
    }
}
