import GridloopCore

/// The SLA policy and working calendar the daemon runs, loaded and validated from the
/// configuration (`sla.policyFile`, `sla.calendarDirectory`, `sla.officeHours`), with where each
/// came from. Never connects to anything: `check-config` uses it too.
public struct SLASettings: Sendable {
    public var policy: SLAPolicy
    /// The policy file, or `(built-in) deploy/policy.yaml`.
    public var policySource: String
    public var calendar: WorkingCalendar
    /// The calendar directory, or `(built-in) deploy/calendars`.
    public var calendarSource: String

    /// Loads both; `calendarDirectory` (a command-line option) replaces the configured directory.
    public static func load(_ config: GridloopConfig, calendarDirectory: String? = nil) throws -> SLASettings {
        let policy = try PolicyLoader.load(file: config.policyFile)
        let directory = calendarDirectory ?? config.calendarDirectory
        let calendar =
            try directory.map { try CalendarLoader.load(directory: $0, officeHours: config.officeHours) }
            ?? CalendarLoader.embedded(officeHours: config.officeHours)
        return SLASettings(
            policy: policy, policySource: config.policyFile ?? PolicyLoader.embeddedName,
            calendar: calendar, calendarSource: directory ?? "(built-in) deploy/calendars")
    }

    /// The years with an official calendar, e.g. `2025, 2026`.
    public var calendarYears: String { calendar.years.sorted().map(String.init).joined(separator: ", ") }

    /// Years from `from` to `to` (inclusive) without an official calendar: counted Monday–Friday.
    public func missingYears(from: Int, to: Int) -> [Int] { (from...to).filter { !calendar.years.contains($0) } }
}
