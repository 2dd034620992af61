import GridloopCore
import XCTest

/// SplitMix64: a small seeded generator, so that a failing property can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Properties of the deadline arithmetic on the official 2025–2026 calendars, over thousands
/// of seeded random starts, limits and suspensions (starts reach into 2027, a year counted
/// Monday–Friday).
final class DeadlinePropertyTests: XCTestCase {
    let calc = DeadlineCalculator(calendar: DeadlineCalculatorTests.calendar)
    let base = LocalDate("2024-12-20")!.startMillis
    let hour: Int64 = 3_600_000
    let day: Int64 = 86_400_000

    func randomStart(_ rng: inout SeededGenerator) -> Int64 {
        // Whole minutes now and then: office-hour and midnight boundaries are where bugs hide.
        let t = base + Int64.random(in: 0..<(760 * day), using: &rng)
        return Bool.random(using: &rng) ? t - t % 60_000 : t
    }

    func deadline(_ start: Int64, _ n: Int, _ unit: TimeLimit.Unit, _ pauses: [Suspension] = []) -> Int64 {
        calc.deadline(start: start, limit: TimeLimit(amount: n, unit: unit), suspensions: pauses).deadline!
    }

    func testMonotonicInTheLimit() {
        var rng = SeededGenerator(seed: 20_251_001)
        for _ in 0..<3000 {
            let start = randomStart(&rng)
            let unit = TimeLimit.Unit.allCases.randomElement(using: &rng)!
            let n = Int.random(in: 0..<12, using: &rng)
            let m = n + Int.random(in: 1..<6, using: &rng)
            let a = deadline(start, n, unit)
            let b = deadline(start, m, unit)
            XCTAssertGreaterThanOrEqual(a, start)
            XCTAssertLessThan(a, b, "\(n)\(unit.rawValue) then \(m)\(unit.rawValue) from \(RFC3339.format(start))")
        }
    }

    func testASuspensionNeverShortensAndOneInUncountedTimeChangesNothing() {
        var rng = SeededGenerator(seed: 12_345)
        for _ in 0..<2000 {
            let start = randomStart(&rng)
            let unit = TimeLimit.Unit.allCases.randomElement(using: &rng)!
            let n = Int.random(in: 0..<8, using: &rng)
            let plain = deadline(start, n, unit)
            var pauses: [Suspension] = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let from = start + Int64.random(in: -day..<(6 * day), using: &rng)
                pauses.append(Suspension(from: from, to: from + Int64.random(in: 1..<(4 * day), using: &rng)))
            }
            let paused = deadline(start, n, unit, pauses)
            XCTAssertGreaterThanOrEqual(paused, plain, "\(n)\(unit.rawValue) from \(RFC3339.format(start)), \(pauses)")
            if [.seconds, .minutes, .hours, .days].contains(unit) {
                // Natural time: a pause delays the deadline by at most its length.
                XCTAssertLessThanOrEqual(paused, plain + pauses.reduce(0) { $0 + $1.to! - $1.from })
            }
        }
        // A whole day of suspension on a rest day does not move a working-day or working-hour deadline.
        for _ in 0..<500 {
            let start = randomStart(&rng)
            let unit: TimeLimit.Unit = Bool.random(using: &rng) ? .workingDays : .workingHours
            let n = Int.random(in: 1..<8, using: &rng)
            var rest = LocalDate(containing: start + Int64.random(in: 0..<(10 * day), using: &rng))
            while calc.calendar.isWorkingDay(rest) { rest = LocalDate(day: rest.day + 1) }
            let pause = Suspension(from: rest.startMillis, to: rest.startMillis + day)
            XCTAssertEqual(deadline(start, n, unit, [pause]), deadline(start, n, unit), "\(n)\(unit.rawValue), rest day \(rest)")
        }
    }

    func testWorkingDaysEndAtMidnightAfterAWorkingDay() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<3000 {
            let start = randomStart(&rng)
            let n = Int.random(in: 1..<15, using: &rng)
            let d = deadline(start, n, .workingDays)
            let lastDay = LocalDate(containing: d - 1)
            XCTAssertEqual(d, LocalDate(day: lastDay.day + 1).startMillis, "\(n)wd from \(RFC3339.format(start)): local midnight")
            XCTAssertTrue(
                calc.calendar.isWorkingDay(lastDay), "\(n)wd from \(RFC3339.format(start)) ends after \(lastDay), a rest day")
            // Exactly n working days after the start date, none of them the start date.
            var count = 0
            var date = LocalDate(day: LocalDate(containing: start).day + 1)
            while date <= lastDay {
                if calc.calendar.isWorkingDay(date) { count += 1 }
                date = LocalDate(day: date.day + 1)
            }
            XCTAssertEqual(count, n, "\(n)wd from \(RFC3339.format(start))")
        }
    }

    func testWorkingHoursEndInsideOfficeHoursOfAWorkingDay() {
        var rng = SeededGenerator(seed: 99)
        for _ in 0..<2000 {
            let start = randomStart(&rng)
            let d = deadline(start, Int.random(in: 1..<30, using: &rng), .workingHours)
            let date = LocalDate(containing: d - 1)
            let inDay = d - date.startMillis
            XCTAssertTrue(calc.calendar.isWorkingDay(date), RFC3339.format(d))
            XCTAssertTrue(
                calc.calendar.officeHours.contains {
                    Int64($0.lowerBound) * 60_000 < inDay && inDay <= Int64($0.upperBound) * 60_000
                }, "\(RFC3339.format(d)) is outside office hours")
        }
    }

    func testAnExtensionAddsInTheLimitsUnit() {
        var rng = SeededGenerator(seed: 2026)
        for _ in 0..<2000 {
            let start = randomStart(&rng)
            let unit = TimeLimit.Unit.allCases.randomElement(using: &rng)!
            let n = Int.random(in: 1..<10, using: &rng)
            let k = Int.random(in: 1..<6, using: &rng)
            let first = deadline(start, n, unit)
            let extended = calc.deadline(start: start, limit: TimeLimit(amount: n, unit: unit).extended(by: k)).deadline!
            XCTAssertEqual(extended, deadline(start, n + k, unit))
            // The extension is k more of the unit counted from where the limit ended. A working-day
            // count starts the day after its start, so it continues from the last instant of the limit.
            let resume = unit == .workingDays ? first - 1 : first
            XCTAssertEqual(extended, deadline(resume, k, unit), "\(n)+\(k)\(unit.rawValue) from \(RFC3339.format(start))")
        }
    }

    func testRFC3339RoundTrips() {
        var rng = SeededGenerator(seed: 3339)
        for _ in 0..<2000 {
            let t = randomStart(&rng)
            XCTAssertEqual(RFC3339.parse(RFC3339.format(t)), t)
            XCTAssertEqual(RFC3339.parse(RFC3339.format(t, offsetMinutes: 0)), t)
            XCTAssertEqual(RFC3339.parse(RFC3339.format(t, offsetMinutes: -330)), t)
        }
        XCTAssertEqual(RFC3339.format(RFC3339.parse("2025-10-11T16:00:00Z")!), "2025-10-12T00:00:00+08:00")
        XCTAssertEqual(RFC3339.format(RFC3339.parse("2025-10-12T00:00:00.25+08:00")!), "2025-10-12T00:00:00.250+08:00")
        XCTAssertEqual(RFC3339.format(0, offsetMinutes: 0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(RFC3339.format(0, offsetMinutes: -90), "1969-12-31T22:30:00-01:30")
        for bad in [
            "2025-10-12", "2025-10-12T00:00:00", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
            "2025-10-12T24:00:00Z", "2025-10-12T00:00:00+0800", "2025-10-12T00:00:00.Z", "x",
        ] {
            XCTAssertNil(RFC3339.parse(bad), bad)
        }
    }
}

/// `counted` is the inverse of `deadline`: at the deadline the whole budget is used.
final class CountedTimeTests: XCTestCase {
    func testCountedAtTheDeadlineIsTheBudget() throws {
        let calc = DeadlineCalculator(calendar: WorkingCalendar())
        let start: Int64 = 1_764_041_400_000  // 2025-11-25 11:30 +08:00, a Tuesday
        for text in ["45s", "30m", "2h", "3d", "3wd", "4wh", "13wh"] {
            let limit = try XCTUnwrap(TimeLimit(text))
            let pause = [Suspension(from: start + 3_600_000, to: start + 30 * 3_600_000)]
            for suspensions in [[], pause] {
                let deadline = try XCTUnwrap(calc.deadline(start: start, limit: limit, suspensions: suspensions).deadline)
                XCTAssertEqual(
                    calc.counted(start: start, until: deadline, unit: limit.unit, suspensions: suspensions),
                    limit.budgetMillis, "\(text) \(suspensions)")
                XCTAssertLessThan(
                    calc.counted(start: start, until: deadline - 1, unit: limit.unit, suspensions: suspensions),
                    limit.budgetMillis, "\(text): not used up before the deadline")
            }
        }
    }
}
