/// A row of `table` that lacks a column the daemon wrote: the database was changed by hand.
package struct StoreRowError: Error, CustomStringConvertible {
    package var table: String
    package var row: Int
    package var description: String { "\(table): row \(row) has a NULL or unreadable column" }
}
