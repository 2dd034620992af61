import Foundation
import GridloopCore

/// The configuration keys of the SLA policy and calendars: `sla.policyFile`,
/// `sla.calendarDirectory`, `sla.officeHours`.
extension GridloopConfig {
    /// 09:00–12:00 and 13:30–17:30.
    public static let defaultOfficeHours: [Range<Int>] = [540..<720, 810..<1050]

    /// `["09:00-12:00", "13:30-17:30"]`: at least one range, each `HH:mm-HH:mm` with its start
    /// before its end (24:00 allowed as an end), in order of the day and not overlapping.
    mutating func setOfficeHours(_ items: [(text: String, line: Int?)], file: String, line: Int?) throws {
        let key = "sla.officeHours"
        let example = "such as 09:00-12:00"
        guard !items.isEmpty else {
            throw ConfigError(file: file, line: line, key: key, problem: "expected at least one range \(example)")
        }
        var ranges: [Range<Int>] = []
        for (text, itemLine) in items {
            let t = text.trimmingCharacters(in: .whitespaces)
            guard let r = Self.officeHoursRange(t) else {
                throw ConfigError(
                    file: file, line: itemLine, key: key,
                    problem: "expected a range of the day HH:mm-HH:mm, start before end, \(example), got '\(text)'")
            }
            if let last = ranges.last, r.lowerBound < last.upperBound {
                throw ConfigError(
                    file: file, line: itemLine, key: key,
                    problem: "'\(t)' overlaps or precedes the range before it: list the ranges in order of the day")
            }
            ranges.append(r)
        }
        officeHours = ranges
    }

    /// `09:00-12:00` → 540..<720; nil unless well formed with start < end.
    public static func officeHoursRange(_ text: String) -> Range<Int>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = minutes(parts[0]), let b = minutes(parts[1]), a < b, a < 1440 else { return nil }
        return a..<b
    }

    /// `HH:mm` (00:00 to 24:00) → minutes after midnight.
    static func minutes(_ text: Substring) -> Int? {
        let hm = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard hm.count == 2, hm[0].count == 2, hm[1].count == 2, hm.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let h = Int(hm[0]), let m = Int(hm[1]), m < 60, h * 60 + m <= 1440
        else { return nil }
        return h * 60 + m
    }

    /// `09:00-12:00, 13:30-17:30`
    public static func describe(officeHours: [Range<Int>]) -> String {
        func hm(_ m: Int) -> String { "\(m / 60 < 10 ? "0" : "")\(m / 60):\(m % 60 < 10 ? "0" : "")\(m % 60)" }
        return officeHours.map { "\(hm($0.lowerBound))-\(hm($0.upperBound))" }.joined(separator: ", ")
    }
}
