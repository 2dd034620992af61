/// A civil date in Asia/Shanghai (UTC+8, no daylight saving), as a day number since 1970-01-01.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var day: Int64

    public init(day: Int64) { self.day = day }

    public init?(year: Int, month: Int, day d: Int) {
        guard (1...12).contains(month), d >= 1, d <= LocalDate.daysIn(year: year, month: month) else { return nil }
        // days_from_civil (Howard Hinnant)
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        day = era * 146_097 + doe - 719_468
    }

    /// Parses `yyyy-MM-dd`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The local date of an instant (epoch milliseconds).
    public init(containing epochMillis: Int64) {
        day = (epochMillis + LocalDate.offsetMillis).floorDiv(LocalDate.dayMillis)
    }

    public static let dayMillis: Int64 = 86_400_000
    public static let offsetMillis: Int64 = 8 * 3_600_000

    /// The instant of 00:00 local time on this date, epoch milliseconds.
    public var startMillis: Int64 { day * LocalDate.dayMillis - LocalDate.offsetMillis }

    public var civil: (year: Int, month: Int, day: Int) {
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }

    /// 1 = Monday ... 7 = Sunday.
    public var weekday: Int { Int((day + 3).floorMod(7)) + 1 }

    public var description: String {
        let c = civil
        return "\(c.year)-\(c.month < 10 ? "0" : "")\(c.month)-\(c.day < 10 ? "0" : "")\(c.day)"
    }

    public static func < (a: LocalDate, b: LocalDate) -> Bool { a.day < b.day }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

extension Int64 {
    func floorDiv(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
    func floorMod(_ d: Int64) -> Int64 { self - floorDiv(d) * d }
}

/// China's official working-day calendar: Monday–Friday, minus the official holidays (放假),
/// plus the adjusted working weekends (调休上班), for the years it has been given.
public struct WorkingCalendar: Sendable, Hashable {
    public private(set) var holidays: Set<LocalDate> = []
    public private(set) var workdays: Set<LocalDate> = []
    /// Years for which an official calendar was loaded.
    public private(set) var years: Set<Int> = []
    /// Office hours on working days, as minutes after local midnight (default 09:00–12:00, 13:30–17:30).
    public var officeHours: [Range<Int>] = [540..<720, 810..<1050]

    public init() {}

    /// Adds one year's official calendar.
    public mutating func add(year: Int, holidays: [LocalDate], workdays: [LocalDate]) {
        years.insert(year)
        self.holidays.formUnion(holidays)
        self.workdays.formUnion(workdays)
    }

    /// Whether the date is a working day; dates in years without a calendar count Monday–Friday.
    public func isWorkingDay(_ date: LocalDate) -> Bool {
        if holidays.contains(date) { return false }
        if workdays.contains(date) { return true }
        return date.weekday <= 5
    }

    /// Whether the date falls in a year with no official calendar (counted Monday–Friday).
    public func isFallback(_ date: LocalDate) -> Bool { !years.contains(date.civil.year) }
}
