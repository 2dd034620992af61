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

    /// The SQLSTATE codes Gridloop acts on, by name (PostgreSQL's Appendix A). A class is the
    /// first two characters of a code; `sessionTerminated` is a subclass of class 57.
    public enum Code {
        /// 23505: a primary key or unique index refused a row (a decision recorded already).
        public static let uniqueViolation = "23505"
        /// Class 08, connection exception: the connection failed or was lost.
        public static let connectionException = "08"
        /// 57P01-57P05 (admin shutdown, crash shutdown, cannot connect now, database dropped, idle
        /// session timeout): the server ended or refused the session.
        public static let sessionTerminated = "57P"
        /// Class 22, data exception: a value the column or function cannot take.
        public static let dataException = "22"
        /// Class 23, integrity constraint violation: a key, check or NOT NULL refused a row.
        public static let integrityConstraintViolation = "23"
        /// Class 54, program limit exceeded: a key too long for its index, say.
        public static let programLimitExceeded = "54"
    }

    /// Whether the SQLSTATE is `code`, or in the class or subclass `code` when that is shorter.
    public func hasSQLState(_ code: String) -> Bool { sqlState?.hasPrefix(code) ?? false }

    /// True for errors after which the connection is unusable (connection loss, admin shutdown).
    public var isConnectionFailure: Bool {
        guard sqlState != nil else { return true }
        return hasSQLState(Code.connectionException) || hasSQLState(Code.sessionTerminated)
    }

    /// True for errors caused by the data a statement carried, not by the connection or the
    /// server: SQLSTATE class 22 (data exception: a value the column cannot hold), 23 (integrity
    /// constraint) and 54 (program limit: a key too long for its index). Retrying the same data
    /// fails the same way.
    public var isCausedByData: Bool {
        [Code.dataException, Code.integrityConstraintViolation, Code.programLimitExceeded].contains { hasSQLState($0) }
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
