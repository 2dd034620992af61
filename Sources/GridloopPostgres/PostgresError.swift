import CLibPQ

/// A failure reported by libpq or the server, with the server's own message and SQLSTATE.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// Five-character SQLSTATE when the server sent one (e.g. `23505` unique violation).
    public var sqlState: String?
    public var message: String
    /// What Gridloop was doing, e.g. `connect` or `COPY case_events`.
    public var context: String

    public init(sqlState: String? = nil, message: String, context: String) {
        self.sqlState = sqlState
        self.message = message
        self.context = context
    }

    public var description: String {
        let state = sqlState.map { " [SQLSTATE \($0)]" } ?? ""
        return "PostgreSQL \(context): \(message)\(state)"
    }

    /// The SQLSTATE codes Gridloop acts on, by name (PostgreSQL's Appendix A).
    public enum Code {
        /// 23505: a primary key or unique index refused a row (a decision recorded already).
        public static let uniqueViolation = "23505"
    }

    /// True for errors after which the connection is unusable (connection loss, admin shutdown).
    public var isConnectionFailure: Bool {
        guard let sqlState else { return true }
        return sqlState.hasPrefix("08") || sqlState.hasPrefix("57P")
    }

    /// True for errors caused by the data a statement carried, not by the connection or the
    /// server: SQLSTATE class 22 (data exception: a value the column cannot hold), 23 (integrity
    /// constraint) and 54 (program limit: a key too long for its index). Retrying the same data
    /// fails the same way.
    public var isCausedByData: Bool {
        guard let sqlState else { return false }
        return sqlState.hasPrefix("22") || sqlState.hasPrefix("23") || sqlState.hasPrefix("54")
    }

    static func from(result: OpaquePointer?, connection: OpaquePointer?, context: String) -> PostgresError {
        var message = ""
        var state: String?
        if let result {
            if let m = PQresultErrorMessage(result) { message = String(cString: m) }
            if let s = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) { state = String(cString: s) }
        }
        if message.isEmpty, let connection, let m = PQerrorMessage(connection) {
            message = String(cString: m)
        }
        return PostgresError(sqlState: state, message: message.trimmingTrailingNewlines(), context: context)
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == " " { s = s.dropLast() }
        return String(s)
    }
}
