import GridloopCore

/// The SLA policy, working calendar and unit directory the daemon runs, loaded and validated
/// from the configuration (`sla.policyFile`, `sla.calendarDirectory`, `sla.officeHours`,
/// `units.directory`), with where each came from: what a `ClockKeeper` is made of. Never
/// connects to anything: `check-config` uses it too.
public struct SLASettings: Sendable {
    public var policy: SLAPolicy
    /// The policy file, or `(built-in) deploy/policy.yaml`.
    public var policySource: String
    public var calendar: WorkingCalendar
    /// The calendar directory, or `(built-in) deploy/calendars`.
    public var calendarSource: String
    /// Who takes a case one level up (`UnitDirectoryLoader`).
    public var units: UnitDirectory
    /// The unit directory file, or `(built-in) deploy/units.yaml`.
    public var unitsSource: String

    /// Loads both; `calendarDirectory` (a command-line option) replaces the configured directory.
    public static func load(_ config: GridloopConfig, calendarDirectory: String? = nil) throws -> SLASettings {
        let policy = try PolicyLoader.load(file: config.policyFile)
        let directory = calendarDirectory ?? config.calendarDirectory
        let calendar =
            try directory.map { try CalendarLoader.load(directory: $0, officeHours: config.officeHours) }
            ?? CalendarLoader.embedded(officeHours: config.officeHours)
        let units = try UnitDirectoryLoader.load(file: config.unitDirectoryFile)
        return SLASettings(
            policy: policy, policySource: config.policyFile ?? PolicyLoader.embeddedName,
            calendar: calendar, calendarSource: directory ?? "(built-in) deploy/calendars",
            units: units, unitsSource: config.unitDirectoryFile ?? UnitDirectoryLoader.embeddedName)
    }

    /// The clock keeper these settings make: the policy, the calendar and the unit directory.
    public var keeper: ClockKeeper { ClockKeeper(policy: policy, calendar: calendar, directory: units) }

    /// `12 community, 4 street, 17 district entries; default DCS340111 包河区督查室`
    public var unitsSummary: String {
        let n = { (l: LoopLevel) in self.units.entries.filter { $0.level == l }.count }
        return "\(n(.community)) community, \(n(.street)) street, \(n(.district)) district entries; "
            + "default \(units.defaultUnit.unitCode) \(units.defaultUnit.unitName)"
    }

    /// The years with an official calendar, e.g. `2025, 2026`.
    public var calendarYears: String { calendar.years.sorted().map(String.init).joined(separator: ", ") }

    /// Years from `from` to `to` (inclusive) without an official calendar: counted Monday–Friday.
    public func missingYears(from: Int, to: Int) -> [Int] { (from...to).filter { !calendar.years.contains($0) } }
}
