import Foundation
import GridloopCore
import Yams

/// One year of China's official calendar, as read from a `cn-<year>.yaml` file: the rest days
/// (放假) and the weekend days that are working days (调休上班).
public struct CalendarYear: Sendable, Hashable {
    public var year: Int
    public var holidays: [LocalDate]
    public var workdays: [LocalDate]
}

/// Reads the official working-day calendars (`cn-<year>.yaml`, see `deploy/calendars`) into a
/// `WorkingCalendar`, refusing a damaged file with its file, line, key and problem. The
/// calendars in `deploy/calendars` are also built into the binary (`EmbeddedDefaults`), so the
/// daemon needs no files installed; a configured directory replaces them.
public enum CalendarLoader {
    /// The calendars built into the binary, with `officeHours`.
    public static func embedded(officeHours: [Range<Int>]) throws -> WorkingCalendar {
        let years = try EmbeddedDefaults.calendars.map { try parse($0.yaml, file: "(built-in) deploy/calendars/\($0.name)") }
        return calendar(years, officeHours: officeHours)
    }

    /// Every `cn-*.yaml` file of `directory`; other files are ignored. A directory without one is refused.
    public static func load(directory: String, officeHours: [Range<Int>]) throws -> WorkingCalendar {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ConfigError(
                file: directory, line: nil, key: "sla.calendarDirectory",
                problem: "cannot be read as a directory: \(error.localizedDescription)")
        }
        let files = names.filter { $0.hasPrefix("cn-") && $0.hasSuffix(".yaml") }.sorted()
        guard !files.isEmpty else {
            throw ConfigError(
                file: directory, line: nil, key: "sla.calendarDirectory",
                problem: "holds no cn-<year>.yaml calendar file (copy them from deploy/calendars)")
        }
        var years: [CalendarYear] = []
        for name in files {
            let path = (directory as NSString).appendingPathComponent(name)
            let text = try ConfigError.text(of: path)
            years.append(try parse(text, file: path))
        }
        return calendar(years, officeHours: officeHours)
    }

    public static func calendar(_ years: [CalendarYear], officeHours: [Range<Int>]) -> WorkingCalendar {
        var c = WorkingCalendar()
        c.officeHours = officeHours
        for y in years { c.add(year: y.year, holidays: y.holidays, workdays: y.workdays) }
        return c
    }

    static let weekdayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    /// Parses one calendar file. `file` names it in errors; when it ends in `cn-<digits>.yaml`
    /// the digits must be the declared year.
    public static func parse(_ text: String, file: String) throws -> CalendarYear {
        let r = YAMLReader(file: file)
        guard let root = try r.compose(text) else { throw r.error(nil, "(file)", "is empty") }
        let top = try r.mapping(root, "", known: ["year", "timezone", "holidays", "workdays"])
        try r.require(["year", "timezone", "holidays"], in: top, of: root, "")

        let yearNode = top.first { $0.name == "year" }!.value
        let year = try r.int(yearNode, "year", in: 1900...9999)
        let base = (file as NSString).lastPathComponent
        if base.hasPrefix("cn-"), base.hasSuffix(".yaml"), base != "cn-\(year).yaml" {
            throw r.error(yearNode, "year", "the file \(base) declares year \(year): name it cn-\(year).yaml")
        }
        let zoneNode = top.first { $0.name == "timezone" }!.value
        let zone = try r.scalar(zoneNode, "timezone")
        guard zone == "Asia/Shanghai" else {
            throw r.error(
                zoneNode, "timezone", "expected Asia/Shanghai (the only time zone of the official calendar), got '\(zone)'")
        }

        var seen: [LocalDate: (list: String, line: Int?)] = [:]
        var lists: [String: [LocalDate]] = ["holidays": [], "workdays": []]
        for (name, _, value) in top where name == "holidays" || name == "workdays" {
            for (i, entry) in try r.sequence(value, name).enumerated() {
                let key = "\(name)[\(i)]"
                let fields = try r.mapping(entry, key, known: ["date", "name", "weekday"])
                try r.require(["date"], in: fields, of: entry, key)
                let dateNode = fields.first { $0.name == "date" }!.value
                let text = try r.scalar(dateNode, "\(key).date")
                guard let date = LocalDate(text) else {
                    throw r.error(dateNode, "\(key).date", "expected a date such as \(year)-10-01 (yyyy-MM-dd), got '\(text)'")
                }
                guard date.civil.year == year else {
                    throw r.error(dateNode, "\(key).date", "\(date) is outside \(year), the year of this file")
                }
                let weekday = weekdayNames[date.weekday - 1]
                if let w = fields.first(where: { $0.name == "weekday" })?.value {
                    let given = try r.scalar(w, "\(key).weekday")
                    guard weekdayNames.contains(given) else {
                        throw r.error(
                            w, "\(key).weekday", "expected one of \(weekdayNames.joined(separator: ", ")), got '\(given)'")
                    }
                    guard given == weekday else { throw r.error(w, "\(key).weekday", "\(date) is a \(weekday), not a \(given)") }
                }
                if let n = fields.first(where: { $0.name == "name" })?.value { _ = try r.scalar(n, "\(key).name") }
                if name == "workdays", date.weekday <= 5 {
                    throw r.error(
                        dateNode, "\(key).date",
                        "\(date) is a \(weekday): workdays lists only weekend days that are working days (调休上班)")
                }
                if let first = seen[date] {
                    let at = first.line.map { " (line \($0))" } ?? ""
                    throw r.error(
                        dateNode, "\(key).date",
                        first.list == name
                            ? "\(date) is listed twice in \(name)\(at)"
                            : "\(date) is both a holiday and a workday: also in \(first.list)\(at)")
                }
                seen[date] = (name, dateNode.mark?.line)
                lists[name, default: []].append(date)
            }
        }
        return CalendarYear(year: year, holidays: lists["holidays"]!, workdays: lists["workdays"]!)
    }
}
