/// A stored row with a column Gridloop cannot read back: NULL where it never writes NULL, or a
/// value in a form it does not write. Names the table, the row and the column, so that a person
/// can find the row (`SELECT ... FROM table WHERE ...`).
package struct MalformedRow: Error, CustomStringConvertible {
    /// The table read.
    package var table: String
    /// The row's key as a person would look it up: `seq 42`, `event_key 12345:HF1`.
    package var row: String
    /// The column that could not be read.
    package var column: String

    package init(table: String, row: String, column: String) {
        self.table = table
        self.row = row
        self.column = column
    }

    package var description: String { "\(table) row \(row): column \(column) holds a value Gridloop cannot read" }
}
