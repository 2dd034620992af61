import CLibPQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Threading: a `PostgresConnection` wraps one libpq `PGconn`, which is not thread-safe.
// Each connection is owned by exactly one thread (the intake loop, the outbox relay, a
// command); it is never shared. It is `~Sendable` on purpose.

/// One libpq connection: queries with text parameters, `COPY FROM STDIN`, transactions.
/// Accepts a `postgresql://` URL or a `key=value` connection string, so every libpq
/// setting (`sslmode`, `sslrootcert`, `target_session_attrs`, ...) passes through.
public final class PostgresConnection {
    private let conn: OpaquePointer
    /// Set when a query with a timeout gave up: its answer may still come, so the connection
    /// cannot be used again.
    private var abandoned = false

    /// Connects, failing with libpq's message (never the password) when the server cannot be reached.
    /// - Parameters:
    ///   - password: overrides any password in `conninfo` (read from a credential file, so that
    ///     it never appears in a URL, a command line or the environment).
    ///   - defaults: libpq keywords (`connect_timeout`, `keepalives_idle`, ...) used unless
    ///     `conninfo` or the keyword's environment variable (`PGCONNECT_TIMEOUT`, ...) sets them;
    ///     keywords this libpq does not know are left out.
    ///   - settings: server settings (`statement_timeout`, ...) set for the session unless
    ///     something set them already (the URL's `options`, `PGOPTIONS`, `ALTER ROLE|DATABASE
    ///     ... SET`, the server's configuration): only where the server's value is its built-in
    ///     default (`pg_settings.source = 'default'`).
    public init(
        _ conninfo: String, applicationName: String = "gridloopd", password: String? = nil,
        defaults: [String: String] = [:], settings: [String: String] = [:]
    ) throws {
        // Keyword/value form so that application_name is added to whatever the user gave; later
        // keywords override what the expanded conninfo set.
        var keys = ["dbname", "application_name"]
        var values = [conninfo, applicationName]
        for (key, value) in Self.unset(defaults, in: conninfo) {
            keys.append(key)
            values.append(value)
        }
        if let password {
            keys.append("password")
            values.append(password)
        }
        let c: OpaquePointer? = keys.withCStringArray { k in
            values.withCStringArray { v in PQconnectdbParams(k, v, 1) }
        }
        guard let c else { throw PostgresError(message: "out of memory", context: "connect") }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(c)).trimmingTrailingNewlines()
            PQfinish(c)
            throw PostgresError(sqlState: nil, message: message, context: "connect")
        }
        conn = c
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        if !settings.isEmpty {
            let names = settings.keys.sorted()
            try query(
                """
                SELECT set_config(s.name, d.setting, false)
                FROM pg_settings s JOIN unnest($1::text[], $2::text[]) AS d(name, setting) ON d.name = s.name
                WHERE s.source = 'default'
                """, [PostgresArray.text(names), PostgresArray.text(names.map { settings[$0]! })],
                context: "session settings \(names.joined(separator: ", "))")
        }
    }

    /// The entries of `defaults` that `conninfo` does not set, nor their environment variable,
    /// and that this libpq knows, in key order.
    static func unset(_ defaults: [String: String], in conninfo: String) -> [(String, String)] {
        guard !defaults.isEmpty else { return [] }
        var known: [String: String?] = [:]  // keyword -> its environment variable
        if let options = PQconndefaults() {
            defer { PQconninfoFree(options) }
            var o = options
            while let keyword = o.pointee.keyword {
                known.updateValue(o.pointee.envvar.map { String(cString: $0) }, forKey: String(cString: keyword))  // nil: no variable
                o += 1
            }
        }
        var given: Set<String> = []
        var error: UnsafeMutablePointer<CChar>?
        // A plain database name is not a conninfo and sets nothing else.
        if let options = PQconninfoParse(conninfo, &error) {
            defer { PQconninfoFree(options) }
            var o = options
            while let keyword = o.pointee.keyword {
                if o.pointee.val != nil { given.insert(String(cString: keyword)) }
                o += 1
            }
        }
        if let error { PQfreemem(error) }
        return defaults.sorted { $0.key < $1.key }.filter { key, _ in
            guard let envvar = known[key] else { return false }
            if given.contains(key) { return false }
            if let envvar, getenv(envvar) != nil { return false }
            return true
        }
    }

    deinit { PQfinish(conn) }

    /// False once the connection has been lost, or given up by a query with a timeout; make a
    /// new one then.
    public var isConnected: Bool { !abandoned && PQstatus(conn) == CONNECTION_OK }

    /// Runs one or more statements without parameters (simple query protocol).
    public func execute(_ sql: String, context: String? = nil) throws {
        var result = PQexec(conn, sql)
        defer { PQclear(result) }
        try check(result, context: context ?? String(sql.prefix(60)))
        // Drain any further results of a multi-statement string.
        while let next = PQgetResult(conn) {
            PQclear(result)
            result = next
            try check(result, context: context ?? String(sql.prefix(60)))
        }
    }

    /// Runs one statement with text parameters (`$1`, `$2`, ...; nil is NULL) and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = [], context: String? = nil) throws -> PostgresRows {
        try run(sql, parameters, binary: false, context: context) { PostgresRows(result: $0) }
    }

    /// Like `query`, with the rows in binary format: a `bytea` cell is its bytes (no hex to
    /// encode and decode), a `text` cell its UTF-8, a `bigint` 8 bytes big-endian.
    public func queryBinary(_ sql: String, _ parameters: [String?] = [], context: String? = nil) throws -> PostgresBinaryRows {
        try run(sql, parameters, binary: true, context: context) { PostgresBinaryRows(result: $0) }
    }

    /// Like `query`, but gives up after `timeout` when the server does not answer (a server
    /// frozen or unreachable: libpq waits for ever, and a server-side `statement_timeout` does
    /// not fire in a stopped server). After a timeout the connection is unusable (`isConnected`
    /// is false): drop it and connect again.
    @discardableResult
    public func query(
        _ sql: String, _ parameters: [String?] = [], timeout: Duration,
        context: String? = nil
    ) throws -> PostgresRows {
        let ctx = context ?? String(sql.prefix(60))
        guard !abandoned else { throw PostgresError(message: "connection given up after a timeout", context: ctx) }
        let deadline = ContinuousClock.now + timeout
        let sent = withParameterPointers(parameters) { ptrs in
            PQsendQueryParams(conn, sql, Int32(parameters.count), nil, ptrs, nil, nil, 0)
        }
        guard sent == 1 else { throw PostgresError.from(result: nil, connection: conn, context: ctx) }
        var first: OpaquePointer?
        defer { PQclear(first) }
        // Every result until the NULL that ends the query, each awaited with poll(2) up to the deadline.
        while true {
            while PQisBusy(conn) == 1 {
                let left = deadline - ContinuousClock.now
                let (seconds, atto) = left.components
                let millis = left <= .zero ? 0 : Int32(min(seconds * 1000 + atto / 1_000_000_000_000_000 + 1, 600_000))
                var fd = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
                let ready = poll(&fd, 1, millis)
                if ready < 0, errno == EINTR { continue }
                if ready == 0 {
                    abandoned = true
                    throw PostgresError(message: "no answer within \(timeout)", context: ctx)
                }
                guard ready > 0, PQconsumeInput(conn) == 1 else {
                    throw PostgresError.from(result: nil, connection: conn, context: ctx)
                }
            }
            guard let r = PQgetResult(conn) else { break }
            if first == nil { first = r } else { PQclear(r) }
        }
        try check(first, context: ctx)
        return PostgresRows(result: first!)  // copies the cells; the defer clears the result
    }

    private func run<R>(
        _ sql: String, _ parameters: [String?], binary: Bool, context: String?,
        _ rows: (OpaquePointer) -> R
    ) throws -> R {
        let result = withParameterPointers(parameters) { ptrs in
            PQexecParams(conn, sql, Int32(parameters.count), nil, ptrs, nil, nil, binary ? 1 : 0)
        }
        defer { PQclear(result) }
        try check(result, context: context ?? String(sql.prefix(60)))
        return rows(result!)
    }

    /// Streams `data` (PostgreSQL COPY text format) into `COPY <target> FROM STDIN`; returns the row count.
    @discardableResult
    public func copyIn(_ copySQL: String, data: [UInt8], context: String? = nil) throws -> Int {
        let ctx = context ?? String(copySQL.prefix(60))
        let start = PQexec(conn, copySQL)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            defer { PQclear(start) }
            try check(start, context: ctx)
            throw PostgresError(message: "server did not enter COPY IN", context: ctx)
        }
        PQclear(start)
        var sendOK = true
        if !data.isEmpty {
            // PQputCopyData takes an Int32 length: send in chunks.
            data.withUnsafeBufferPointer { buf in
                var offset = 0
                while offset < buf.count, sendOK {
                    let n = min(1 << 20, buf.count - offset)
                    let r = (buf.baseAddress! + offset).withMemoryRebound(to: CChar.self, capacity: n) {
                        PQputCopyData(conn, $0, Int32(n))
                    }
                    sendOK = r == 1
                    offset += n
                }
            }
        }
        guard PQputCopyEnd(conn, sendOK ? nil : "client failed to send data") == 1 else {
            throw PostgresError.from(result: nil, connection: conn, context: ctx)
        }
        var rows = 0
        var failure: PostgresError?
        while let r = PQgetResult(conn) {
            if PQresultStatus(r) != PGRES_COMMAND_OK, failure == nil {
                failure = PostgresError.from(result: r, connection: conn, context: ctx)
            } else {
                rows = Int(String(cString: PQcmdTuples(r))) ?? 0
            }
            PQclear(r)
        }
        if let failure { throw failure }
        if !sendOK { throw PostgresError.from(result: nil, connection: conn, context: ctx) }
        return rows
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN", context: "BEGIN")
        do {
            let value = try body()
            try execute("COMMIT", context: "COMMIT")
            return value
        } catch {
            if isConnected { try? execute("ROLLBACK", context: "ROLLBACK") }
            throw error
        }
    }

    private func check(_ result: OpaquePointer?, context: String) throws {
        guard let result else { throw PostgresError.from(result: nil, connection: conn, context: context) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN, PGRES_COPY_OUT:
            return
        default:
            throw PostgresError.from(result: result, connection: conn, context: context)
        }
    }
}

private func withParameterPointers<R>(
    _ parameters: [String?],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R
) -> R {
    // Copy each parameter into one NUL-separated buffer that lives for the call.
    var storage: [CChar] = []
    var offsets: [Int?] = []
    for p in parameters {
        if let p {
            offsets.append(storage.count)
            storage.append(contentsOf: p.utf8CString)
        } else {
            offsets.append(nil)
        }
    }
    return storage.withUnsafeBufferPointer { buf in
        let ptrs: [UnsafePointer<CChar>?] = offsets.map { o in o.map { buf.baseAddress! + $0 } }
        return ptrs.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

extension Array where Element == String {
    fileprivate func withCStringArray<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        var storage: [CChar] = []
        var offsets: [Int] = []
        for s in self {
            offsets.append(storage.count)
            storage.append(contentsOf: s.utf8CString)
        }
        return storage.withUnsafeBufferPointer { buf in
            var ptrs: [UnsafePointer<CChar>?] = offsets.map { buf.baseAddress! + $0 }
            ptrs.append(nil)
            return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
        }
    }
}

/// Array literals for `= ANY($1)` parameters.
public enum PostgresArray {
    /// `{"a","b"}` with each element quoted and escaped, for a `text[]` parameter.
    public static func text(_ values: some Sequence<String>) -> String {
        var out = "{"
        var first = true
        for v in values {
            if !first { out += "," }
            first = false
            out += "\""
            for ch in v.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }

    public static func int(_ values: some Sequence<some BinaryInteger>) -> String {
        "{" + values.map { String($0) }.joined(separator: ",") + "}"
    }
}
