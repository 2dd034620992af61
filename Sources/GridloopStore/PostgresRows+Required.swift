import GridloopPostgres

/// Cells the schema never leaves NULL, read with the table named: a NULL, or a number that does
/// not parse, throws `MalformedRow` naming the table, the row (by its `key` column) and the
/// column, where a force-unwrap would stop the daemon without a word about which row.
extension PostgresRows {
    /// The text of a cell that is never NULL.
    func string(_ row: Int, _ column: Int, in table: String, key: Int = 0) throws -> String {
        guard let v = self[row, column] else { throw malformed(row, column, table, key) }
        return v
    }

    /// An `integer` cell that is never NULL.
    func int(_ row: Int, _ column: Int, in table: String, key: Int = 0) throws -> Int {
        guard let v = int(row, column) else { throw malformed(row, column, table, key) }
        return v
    }

    /// A `bigint` cell that is never NULL.
    func int64(_ row: Int, _ column: Int, in table: String, key: Int = 0) throws -> Int64 {
        guard let v = int64(row, column) else { throw malformed(row, column, table, key) }
        return v
    }

    private func malformed(_ row: Int, _ column: Int, _ table: String, _ key: Int) -> MalformedRow {
        MalformedRow(table: table, row: "\(columns[key]) \(self[row, key] ?? "NULL")", column: columns[column])
    }
}
