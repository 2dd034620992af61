/// How the queries people read (`case show`, `status`, `dlq list`, `gaps list`) select a time:
/// in Asia/Shanghai, RFC 3339.
package enum TimeSQL {
    static let format = #"to_char(%@ AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')"#

    /// The select expression of `column` (or of any timestamp expression, such as `now()`).
    package static func t(_ column: String) -> String { format.replacingOccurrences(of: "%@", with: column) }

    /// The select expression of a timestamp `column` as epoch milliseconds (bigint; null stays null).
    package static func millis(_ column: String) -> String { "(extract(epoch FROM \(column)) * 1000)::bigint" }
}
