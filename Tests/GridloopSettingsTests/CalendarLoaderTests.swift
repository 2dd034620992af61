import Foundation
import GridloopCore
import GridloopSettings
import GridloopTestSupport
import XCTest

/// The official calendars as shipped (deploy/calendars, built into the binary): exact deadlines
/// across the 2025 and 2026 holidays, and refusals of damaged calendar files. No servers needed.
final class CalendarLoaderTests: XCTestCase {
    static var directory: String { Repository.root.appendingPathComponent("deploy/calendars").path }

    func loaded() throws -> WorkingCalendar {
        try CalendarLoader.load(directory: Self.directory, officeHours: GridloopConfig.defaultOfficeHours)
    }

    func deadline(_ calendar: WorkingCalendar, _ start: String, _ limit: String, suspend: [(String, String)] = []) -> String? {
        let r = DeadlineCalculator(calendar: calendar).deadline(
            start: RFC3339.parse(start)!, limit: TimeLimit(limit)!,
            suspensions: suspend.map { Suspension(from: RFC3339.parse($0.0)!, to: RFC3339.parse($0.1)!) })
        XCTAssertEqual(r.fallbackDates, [], "\(limit) from \(start) stays in 2025–2026")
        return r.deadline.map { RFC3339.format($0) }
    }

    func testTheShippedCalendarsAreTheOfficialOnes() throws {
        let c = try loaded()
        XCTAssertEqual(c.years, [2025, 2026])
        XCTAssertEqual(c.holidays.count, 28 + 33)
        XCTAssertEqual(
            c.workdays.map(\.description).sorted(),
            [
                "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
                "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
            ])
        XCTAssertEqual(
            try CalendarLoader.embedded(officeHours: GridloopConfig.defaultOfficeHours), c, "run scripts/gen/embed-defaults.sh")
        for d in ["2025-10-08", "2026-02-23", "2026-05-05", "2026-09-25", "2026-01-02"] {
            XCTAssertFalse(c.isWorkingDay(LocalDate(d)!), d)
        }
    }

    func testExactDeadlinesAcrossTheOfficialHolidays() throws {
        let c = try loaded()
        let table: [(String, String, String)] = [
            // National Day 2025 (Oct 1–8 off): Oct 9 Thu, Oct 10 Fri, Oct 11 Sat is a 调休 working day.
            ("2025-09-30T10:00:00+08:00", "3wd", "2025-10-12T00:00:00+08:00"),
            ("2025-09-30T10:00:00+08:00", "4wd", "2025-10-14T00:00:00+08:00"),  // Oct 12 Sun off, Oct 13 Mon
            ("2025-09-27T12:00:00+08:00", "1wd", "2025-09-29T00:00:00+08:00"),  // Sep 28 Sun is a working day
            // Spring Festival 2025 (Jan 28–Feb 4 off; Jan 26 Sun and Feb 8 Sat work).
            ("2025-01-24T12:00:00+08:00", "2wd", "2025-01-28T00:00:00+08:00"),
            ("2025-01-24T12:00:00+08:00", "3wd", "2025-02-06T00:00:00+08:00"),
            ("2025-02-06T09:00:00+08:00", "2wd", "2025-02-09T00:00:00+08:00"),  // Feb 7 Fri, Feb 8 Sat
            // 端午 2025 (May 31–Jun 2) in working hours: Fri 17:00–17:30, then Tue Jun 3 09–12, 13:30–14:00.
            ("2025-05-30T17:00:00+08:00", "4wh", "2025-06-03T14:00:00+08:00"),
            // New Year 2026 across the two files: Jan 1–3 off, Jan 4 Sun works.
            ("2025-12-31T10:00:00+08:00", "1wd", "2026-01-05T00:00:00+08:00"),
            ("2025-12-31T16:00:00+08:00", "2wh", "2026-01-04T09:30:00+08:00"),
            // Spring Festival 2026 (Feb 15–23 off; Feb 14 Sat and Feb 28 Sat work).
            ("2026-02-12T10:00:00+08:00", "3wd", "2026-02-25T00:00:00+08:00"),
            ("2026-02-13T16:00:00+08:00", "8wh", "2026-02-14T17:00:00+08:00"),  // Fri 1.5 h, Sat Feb 14 (调休) 6.5 h
            ("2026-02-13T16:00:00+08:00", "9wh", "2026-02-24T09:30:00+08:00"),  // Sat 7 h, then Tue Feb 24 09:00–09:30
            ("2026-02-24T10:00:00+08:00", "4wd", "2026-03-01T00:00:00+08:00"),  // Feb 25, 26, 27, 28 (Sat)
            // 劳动节 2026 (May 1–5 off; May 9 Sat works).
            ("2026-04-30T15:00:00+08:00", "2wd", "2026-05-08T00:00:00+08:00"),
            ("2026-04-30T15:00:00+08:00", "4wd", "2026-05-10T00:00:00+08:00"),  // May 6, 7, 8, 9 (Sat)
            ("2026-04-30T16:00:00+08:00", "4wh", "2026-05-06T11:30:00+08:00"),  // 1.5 h, then 2.5 h on May 6
            // A lunch break: 11:00–12:00, then 13:30–14:30.
            ("2026-05-06T11:00:00+08:00", "2wh", "2026-05-06T14:30:00+08:00"),
            // 中秋 and National Day 2026 (Sep 25–27, Oct 1–7 off; Sep 20 Sun and Oct 10 Sat work).
            ("2026-09-24T10:00:00+08:00", "2wd", "2026-09-30T00:00:00+08:00"),
            ("2026-09-19T10:00:00+08:00", "1wd", "2026-09-21T00:00:00+08:00"),  // Sep 20 Sun works
            ("2026-09-30T10:00:00+08:00", "2wd", "2026-10-10T00:00:00+08:00"),  // Oct 8 Thu, Oct 9 Fri
            ("2026-09-30T10:00:00+08:00", "3wd", "2026-10-11T00:00:00+08:00"),  // Oct 10 Sat
            // Natural time ignores the calendar.
            ("2026-02-16T23:00:00+08:00", "2h", "2026-02-17T01:00:00+08:00"),
        ]
        for (start, limit, expected) in table {
            XCTAssertEqual(deadline(c, start, limit), expected, "\(limit) from \(start)")
        }
    }

    func testSuspensionsAndExtensionsOnTheOfficialCalendar() throws {
        let c = try loaded()
        // 3wd from 2025-09-30, suspended all of Oct 9: Oct 10, Oct 11 (Sat), Oct 13 → 24:00.
        XCTAssertEqual(
            deadline(
                c, "2025-09-30T10:00:00+08:00", "3wd",
                suspend: [("2025-10-09T00:00:00+08:00", "2025-10-10T00:00:00+08:00")]),
            "2025-10-14T00:00:00+08:00")
        // A suspension inside the holiday changes nothing.
        XCTAssertEqual(
            deadline(
                c, "2025-09-30T10:00:00+08:00", "3wd",
                suspend: [("2025-10-02T00:00:00+08:00", "2025-10-05T00:00:00+08:00")]),
            "2025-10-12T00:00:00+08:00")
        // 3wd extended by 2wd: Oct 9, 10, 11, 13, 14.
        XCTAssertEqual(
            deadline(c, "2025-09-30T10:00:00+08:00", TimeLimit("3wd")!.extended(by: 2).description),
            "2025-10-15T00:00:00+08:00")
    }

    func testOfficeHoursComeFromTheConfiguration() throws {
        let config = try GridloopConfig.load(file: nil, environment: ["GRIDLOOP_OFFICE_HOURS": "08:30-12:00,14:00-18:00"])
        let c = try CalendarLoader.load(directory: Self.directory, officeHours: config.officeHours)
        // Thu Apr 30 16:00–18:00 (2 h), May 1–5 off, Wed May 6 08:30–10:30.
        XCTAssertEqual(deadline(c, "2026-04-30T16:00:00+08:00", "4wh"), "2026-05-06T10:30:00+08:00")
    }

    func testADirectoryReplacesTheBuiltInCalendars() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calendars-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(
            atPath: Self.directory + "/cn-2025.yaml", toPath: dir.appendingPathComponent("cn-2025.yaml").path)
        try "not a calendar".write(to: dir.appendingPathComponent("README"), atomically: true, encoding: .utf8)
        let config = try GridloopConfig.load(file: nil, environment: ["GRIDLOOP_CALENDAR_DIR": dir.path])
        let settings = try SLASettings.load(config)
        XCTAssertEqual(settings.calendar.years, [2025])
        XCTAssertEqual(settings.calendarSource, dir.path)
        XCTAssertEqual(settings.missingYears(from: 2025, to: 2027), [2026, 2027])
        // Without 2026's file, Feb 16 2026 (Spring Festival) counts as a Monday: said, not silent.
        let r = DeadlineCalculator(calendar: settings.calendar).deadline(
            start: RFC3339.parse("2026-02-13T10:00:00+08:00")!,
            limit: TimeLimit("1wd")!)
        XCTAssertEqual(r.deadline.map { RFC3339.format($0) }, "2026-02-17T00:00:00+08:00")
        XCTAssertEqual(r.fallbackDates.map(\.description), ["2026-02-14", "2026-02-15", "2026-02-16"])

        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try CalendarLoader.load(directory: empty.path, officeHours: [540..<720])) { error in
            XCTAssertTrue("\(error)".contains("no cn-<year>.yaml"), "\(error)")
        }
    }

    static let sample = """
        year: 2025
        timezone: Asia/Shanghai
        holidays:
          - {date: 2025-10-01, name: 国庆节}
          - {date: 2025-10-02, name: 国庆节}
        workdays:
          - {date: 2025-10-11, weekday: Sat}

        """

    func testDamagedCalendarsAreRefusedWithFileLineAndProblem() throws {
        let file = "/etc/gridloop/calendars/cn-2025.yaml"
        XCTAssertEqual(try CalendarLoader.parse(Self.sample, file: file).holidays.count, 2)
        let cases: [(String, String, Int?, String, String)] = [
            ("2025-10-02,", "2025-10-32,", 5, "holidays[1].date", "expected a date"),
            ("2025-10-02,", "2024-10-02,", 5, "holidays[1].date", "outside 2025"),
            ("2025-10-02,", "2025-10-01,", 5, "holidays[1].date", "listed twice in holidays (line 4)"),
            ("2025-10-02,", "2025-10-11,", 7, "workdays[0].date", "both a holiday and a workday"),
            (
                "{date: 2025-10-11, weekday: Sat}", "{date: 2025-10-10}", 7, "workdays[0].date",
                "is a Fri: workdays lists only weekend"
            ),
            ("weekday: Sat", "weekday: Fri", 7, "workdays[0].weekday", "is a Sat, not a Fri"),
            ("name: 国庆节}\n  - {date: 2025-10-02", "nom: 国庆节}\n  - {date: 2025-10-02", 4, "holidays[0].nom", "unknown key"),
            ("timezone: Asia/Shanghai", "timezone: Asia/Shanghai\ncountry: CN", 3, "country", "unknown key"),
            ("timezone: Asia/Shanghai", "timezone: Asia/Urumqi", 2, "timezone", "expected Asia/Shanghai"),
            ("year: 2025", "year: 2026", 1, "year", "name it cn-2026.yaml"),
            ("year: 2025", "year: twenty", 1, "year", "whole number"),
            ("holidays:\n  - {date: 2025-10-01, name: 国庆节}\n  - {date: 2025-10-02, name: 国庆节}\n", "", nil, "holidays", "missing"),
            (
                "holidays:\n  - {date: 2025-10-01, name: 国庆节}\n  - {date: 2025-10-02, name: 国庆节}\n", "holidays: 2025-10-01\n",
                3, "holidays", "expected a list"
            ),
            ("  - {date: 2025-10-02, name: 国庆节}", "  - {date: 2025-10-02, name: 国庆节", nil, "(syntax)", "not valid YAML"),
            ("year: 2025", "year: 2025\nyear: 2025", nil, "year", "written twice"),
        ]
        assertRefusals(cases, base: Self.sample, file: file) { _ = try CalendarLoader.parse($0, file: file) }
    }
}
