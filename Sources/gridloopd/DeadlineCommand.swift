import ArgumentParser
import Foundation
import GridloopCore
import GridloopSettings

/// `gridloopd deadline`: where a limit ends, on the daemon's calendar, so that an operator can
/// check any case by hand.
struct DeadlineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadline",
        abstract: "Print where a limit started at an instant ends, in RFC 3339 (+08:00).",
        discussion: """
            Limits: 45s, 30m, 2h, 3d (natural time), 4wh (working hours: office hours on working \
            days, from the start), 3wd (working days: whole days from 00:00 after the start date, \
            so 3wd ends at 24:00 of the 3rd working day). Working days come from the official \
            calendars (built in, or sla.calendarDirectory, or --calendar); office hours from \
            sla.officeHours. A year with no calendar is counted Monday–Friday, with a warning.
            Example: gridloopd deadline --from 2025-09-30T10:00:00+08:00 --limit 3wd
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: "The start, RFC 3339 with an offset, e.g. 2025-09-30T10:00:00+08:00.") var from: String
    @Option(help: "The limit: 45s, 30m, 2h, 3d, 4wh or 3wd.") var limit: String
    @Option(
        help: ArgumentHelp(
            "A span that does not count (SUSPEND…RESUME), FROM/TO in RFC 3339; repeatable.",
            valueName: "from/to"))
    var suspend: [String] = []
    @Option(help: "An approved extension, in the limit's unit (e.g. 2wd for a wd limit).") var extend: String?
    @Option(
        help: "A directory of cn-<year>.yaml calendars, instead of the configured or built-in ones.",
        completion: .directory)
    var calendar: String?

    func validate() throws { _ = try inputs() }

    func run() throws {
        let (start, budget, suspensions) = try inputs()
        let config = try options.load()
        let settings: SLASettings
        do {
            settings = try SLASettings.load(config, calendarDirectory: calendar)
        } catch let error as ConfigError {
            throw CommandFailure(message: "calendar or policy refused: \(error)")
        }
        let result = DeadlineCalculator(calendar: settings.calendar).deadline(
            start: start, limit: budget, suspensions: suspensions)
        let years = Set(result.fallbackDates.map { $0.civil.year }).sorted()
        if !years.isEmpty {
            let list = Self.spans(years)
            let have = settings.calendarYears.isEmpty ? "none" : settings.calendarYears
            FileHandle.standardError.write(
                Data(
                    """
                    warning: no official calendar for \(list) (calendars: \(settings.calendarSource), years \(have)): \
                    its dates were counted Monday–Friday; add cn-<year>.yaml once the State Council publishes the year's holidays

                    """.utf8))
        }
        guard let deadline = result.deadline else {
            throw CommandFailure(message: "no deadline within 20 years of the start: the limit \(budget) is too large")
        }
        print(RFC3339.format(deadline))
    }

    /// The start, the limit with its extension, and the suspensions, checked.
    func inputs() throws -> (start: Int64, limit: TimeLimit, suspensions: [Suspension]) {
        let start = try Self.instant(from, "--from")
        guard var budget = TimeLimit(limit), budget.amount <= Self.maxAmount else {
            throw ValidationError(
                "--limit '\(limit)': expected a whole number up to \(Self.maxAmount) and a unit: "
                    + "s, m, h, d (natural time), wh (working hours) or wd (working days), e.g. 3wd")
        }
        if let extend {
            guard let extra = TimeLimit(extend), extra.amount <= Self.maxAmount else {
                throw ValidationError(
                    "--extend '\(extend)': expected an amount in the limit's unit, e.g. 2\(budget.unit.rawValue)")
            }
            guard extra.unit == budget.unit else {
                throw ValidationError(
                    "--extend '\(extend)': an extension adds to the limit in the limit's unit; "
                        + "the limit \(budget) is in \(budget.unit.rawValue), so write e.g. --extend 2\(budget.unit.rawValue)")
            }
            budget = budget.extended(by: extra.amount)
        }
        return (start, budget, try suspend.map(Self.suspension))
    }

    static let maxAmount = 100_000

    /// `[2027, 2028, 2029, 2031]` → `2027–2029, 2031`.
    static func spans(_ years: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < years.count {
            var j = i
            while j + 1 < years.count, years[j + 1] == years[j] + 1 { j += 1 }
            parts.append(i == j ? "\(years[i])" : "\(years[i])–\(years[j])")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }

    static func instant(_ text: String, _ what: String) throws -> Int64 {
        guard let t = RFC3339.parse(text) else {
            throw ValidationError(
                "\(what) '\(text)': expected an RFC 3339 time with an offset, e.g. 2025-09-30T10:00:00+08:00 or 2025-09-30T02:00:00Z"
            )
        }
        return t
    }

    /// `FROM/TO`, both RFC 3339, FROM before TO.
    static func suspension(_ text: String) throws -> Suspension {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw ValidationError(
                "--suspend '\(text)': expected FROM/TO, two RFC 3339 times, e.g. 2025-10-09T09:00:00+08:00/2025-10-10T09:00:00+08:00"
            )
        }
        let from = try instant(String(parts[0]), "--suspend FROM")
        let to = try instant(String(parts[1]), "--suspend TO")
        guard from < to else { throw ValidationError("--suspend '\(text)': FROM must be before TO") }
        return Suspension(from: from, to: to)
    }
}
