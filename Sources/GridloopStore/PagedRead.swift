import GridloopPostgres

/// Reads a query's rows in pages through a cursor, in one read-only transaction, so that a
/// caller's memory holds one page at a time, however many rows the query has.
package enum PagedRead {
    package static func each(
        _ sql: String, _ parameters: [String?], pageSize: Int, context: String, db: PostgresConnection,
        _ page: (PostgresRows) throws -> Void
    ) throws {
        try db.transaction {
            try db.query("SET TRANSACTION READ ONLY", context: context)
            try db.query("DECLARE paged NO SCROLL CURSOR FOR " + sql, parameters, context: context)
            while true {
                let rows = try db.query("FETCH \(max(1, pageSize)) FROM paged", context: context)
                if rows.count > 0 { try page(rows) }
                if rows.count < pageSize { break }
            }
            try db.query("CLOSE paged", context: context)
        }
    }
}
