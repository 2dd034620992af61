/// RFC 3339 instants as operators type and read them, e.g. `2025-10-12T00:00:00+08:00`.
/// Pure: no Foundation date formatters.
public enum RFC3339 {
    /// Parses `yyyy-MM-ddTHH:mm:ss[.fraction](Z|±hh:mm)` into epoch milliseconds; nil for anything
    /// else. Digits of the fraction past milliseconds are dropped.
    public static func parse(_ text: String) -> Int64? { FeedTime.rfc3339(text) }

    /// Formats epoch milliseconds at a fixed UTC offset (Asia/Shanghai's +08:00 unless told):
    /// `2025-10-12T00:00:00+08:00`, with `.SSS` only when the instant has milliseconds.
    public static func format(_ millis: Int64, offsetMinutes: Int = 480) -> String {
        let local = millis + Int64(offsetMinutes) * 60_000
        let c = LocalDate(day: local.floorDiv(LocalDate.dayMillis)).civil
        let ms = local.floorMod(LocalDate.dayMillis)
        var text = "\(pad(Int64(c.year), 4))-\(pad(Int64(c.month), 2))-\(pad(Int64(c.day), 2))"
        text += "T\(pad(ms / 3_600_000, 2)):\(pad(ms / 60_000 % 60, 2)):\(pad(ms / 1000 % 60, 2))"
        if ms % 1000 != 0 { text += ".\(pad(ms % 1000, 3))" }
        if offsetMinutes == 0 { return text + "Z" }
        let abs = offsetMinutes < 0 ? -offsetMinutes : offsetMinutes
        return text + "\(offsetMinutes < 0 ? "-" : "+")\(pad(Int64(abs / 60), 2)):\(pad(Int64(abs % 60), 2))"
    }

    private static func pad(_ n: Int64, _ width: Int) -> String {
        let digits = String(n < 0 ? -n : n)
        return (n < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
