import GridloopCore
import XCTest

/// Deadlines on the official calendars: exact dates across the 2025 and 2026 holidays, and
/// properties that must hold for any start and limit.
final class DeadlineCalculatorTests: XCTestCase {
    /// The official 2025 and 2026 calendars (国务院办公厅通知), as in calendars/cn-*.yaml.
    static let calendar: WorkingCalendar = {
        var c = WorkingCalendar()
        func d(_ s: String) -> LocalDate { LocalDate(s)! }
        c.add(
            year: 2025,
            holidays: [
                "2025-01-01", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-01",
                "2025-02-02", "2025-02-03", "2025-02-04", "2025-04-04", "2025-04-05", "2025-04-06",
                "2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04", "2025-05-05", "2025-05-31",
                "2025-06-01", "2025-06-02", "2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04",
                "2025-10-05", "2025-10-06", "2025-10-07", "2025-10-08",
            ].map(d),
            workdays: ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"].map(d))
        c.add(
            year: 2026,
            holidays: [
                "2026-01-01", "2026-01-02", "2026-01-03", "2026-02-15", "2026-02-16", "2026-02-17",
                "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
                "2026-04-04", "2026-04-05", "2026-04-06", "2026-05-01", "2026-05-02", "2026-05-03",
                "2026-05-04", "2026-05-05", "2026-06-19", "2026-06-20", "2026-06-21", "2026-09-25",
                "2026-09-26", "2026-09-27", "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04",
                "2026-10-05", "2026-10-06", "2026-10-07",
            ].map(d),
            workdays: ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"].map(d))
        return c
    }()

    /// `2026-11-23T08:37:15` local → epoch ms.
    func t(_ s: String) -> Int64 {
        let date = LocalDate(String(s.prefix(10)))!
        let parts = s.dropFirst(11).split(separator: ":").map { Int64($0)! }
        return date.startMillis + parts[0] * 3_600_000 + parts[1] * 60_000 + (parts.count > 2 ? parts[2] * 1000 : 0)
    }

    func deadline(_ start: String, _ limit: String, suspensions: [(String, String?)] = []) -> Int64? {
        DeadlineCalculator(calendar: Self.calendar).deadline(
            start: t(start), limit: TimeLimit(limit)!,
            suspensions: suspensions.map { Suspension(from: t($0.0), to: $0.1.map(t)) }
        ).deadline
    }

    func testExactDeadlinesAcrossOfficialHolidays() {
        let table: [(String, String, String)] = [
            // start (local), limit, deadline (local)
            ("2026-11-23T08:37:15", "3wd", "2026-11-27T00:00:00"),  // Mon → 24:00 Thu
            ("2026-11-27T16:00:00", "1wd", "2026-12-01T00:00:00"),  // Fri → 24:00 Mon
            ("2026-09-30T10:00:00", "1wd", "2026-10-09T00:00:00"),  // National Day: Oct 8 is the next working day
            ("2026-10-08T10:00:00", "2wd", "2026-10-11T00:00:00"),  // Oct 9 Fri, Oct 10 Sat is a 调休 working day
            ("2026-02-13T09:00:00", "1wd", "2026-02-15T00:00:00"),  // Feb 14 Sat is a working day (Spring Festival)
            ("2026-02-14T09:00:00", "1wd", "2026-02-25T00:00:00"),  // Feb 15–23 holiday, Feb 24 Tue
            ("2025-09-30T18:00:00", "2wd", "2025-10-11T00:00:00"),  // Oct 1–8 holiday, Oct 9 Thu, Oct 10 Fri
            ("2025-01-24T12:00:00", "2wd", "2025-01-28T00:00:00"),  // Jan 26 Sun works, Jan 27 Mon
            ("2026-11-23T08:00:00", "4wh", "2026-11-23T14:30:00"),  // 09–12 then 13:30–14:30
            ("2026-11-27T16:30:00", "2wh", "2026-11-30T10:00:00"),  // Fri 16:30–17:30, Mon 09–10
            ("2026-11-23T08:00:00", "45s", "2026-11-23T08:00:45"),
            ("2026-11-23T23:30:00", "2h", "2026-11-24T01:30:00"),
            ("2026-11-23T08:00:00", "3d", "2026-11-26T08:00:00"),
        ]
        for (start, limit, expected) in table {
            XCTAssertEqual(deadline(start, limit), t(expected), "\(limit) from \(start)")
        }
    }

    /// The forecast's look-ahead window: natural time from the instant; office hours from it;
    /// working days counting the instant's own day when it is a working day.
    func testForecastWindowEnds() {
        let calc = DeadlineCalculator(calendar: Self.calendar)
        let table: [(String, String, String)] = [
            ("2026-11-23T08:30:00", "8h", "2026-11-23T16:30:00"),
            ("2026-11-23T08:30:00", "1wd", "2026-11-24T00:00:00"),  // Mon: until midnight
            ("2026-11-28T08:30:00", "1wd", "2026-12-01T00:00:00"),  // Sat: until Monday's midnight
            ("2026-09-30T08:30:00", "2wd", "2026-10-09T00:00:00"),  // Sep 30, then Oct 8 after National Day
            ("2026-11-23T08:30:00", "4wh", "2026-11-23T14:30:00"),  // 09–12 then 13:30–14:30
        ]
        for (at, within, end) in table {
            XCTAssertEqual(calc.windowEnd(from: t(at), within: TimeLimit(within)!), t(end), "\(within) from \(at)")
        }
    }

    func testSuspensionAcrossAHolidayDoesNotCount() {
        // 3wd from Mon 2026-09-28: counting Tue 29, Wed 30 → National Day; suspended Sep 30 to Oct 9 noon.
        // Counted: Sep 29 (24h) + Oct 9 12:00–24:00 (12h) + Oct 10 Sat (调休, 24h) → 60h, then Oct 12 Mon 12:00.
        XCTAssertEqual(
            deadline(
                "2026-09-28T10:00:00", "3wd",
                suspensions: [("2026-09-30T00:00:00", "2026-10-09T12:00:00")]),
            t("2026-10-12T12:00:00"))
        XCTAssertNil(
            deadline("2026-11-23T10:00:00", "3wd", suspensions: [("2026-11-24T10:00:00", nil)]),
            "an open suspension stops the clock")
    }

    func testExtensionAddsInTheLimitsUnit() {
        XCTAssertEqual(TimeLimit("3wd")!.extended(by: 2), TimeLimit("5wd")!)
        XCTAssertEqual(deadline("2026-11-23T08:37:15", "5wd"), t("2026-12-01T00:00:00"))
    }

    func testLimitEndingOnAnAdjustedWorkingSaturday() {
        // Fri 2026-10-09 + 1wd: counting starts Sat Oct 10, a 调休 working day.
        XCTAssertEqual(deadline("2026-10-09T15:00:00", "1wd"), t("2026-10-11T00:00:00"))
    }

    func testYearWithoutCalendarCountsMondayToFridayAndSaysSo() {
        let r = DeadlineCalculator(calendar: Self.calendar).deadline(start: t("2027-01-04T10:00:00"), limit: TimeLimit("1wd")!)
        XCTAssertEqual(r.deadline, t("2027-01-06T00:00:00"))
        XCTAssertFalse(r.fallbackDates.isEmpty)
    }

    func testPropertiesMonotonicInTheLimitAndSuspensionNeverShortens() {
        var rng = SystemRandomNumberGenerator()
        let calc = DeadlineCalculator(calendar: Self.calendar)
        let base = t("2025-01-01T00:00:00")
        for _ in 0..<400 {
            let start = base + Int64.random(in: 0..<(700 * 86_400_000), using: &rng)
            let unit = TimeLimit.Unit.allCases.randomElement(using: &rng)!
            let n = Int.random(in: 0..<8, using: &rng)
            let a = calc.deadline(start: start, limit: TimeLimit(amount: n, unit: unit)).deadline!
            let b = calc.deadline(start: start, limit: TimeLimit(amount: n + 1, unit: unit)).deadline!
            XCTAssertLessThanOrEqual(a, b, "monotonic: \(n)\(unit.rawValue) from \(start)")
            XCTAssertGreaterThanOrEqual(a, start)
            let from = start + Int64.random(in: 0..<(5 * 86_400_000), using: &rng)
            let pause = Suspension(from: from, to: from + Int64.random(in: 0..<(3 * 86_400_000), using: &rng))
            let c = calc.deadline(start: start, limit: TimeLimit(amount: n, unit: unit), suspensions: [pause]).deadline!
            XCTAssertGreaterThanOrEqual(c, a, "a suspension never shortens: \(n)\(unit.rawValue)")
        }
    }
}
