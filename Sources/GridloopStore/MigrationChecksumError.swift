/// An applied migration whose recorded SHA-256 differs from that of the SQL this binary carries:
/// the file was edited after it ran (or the database was migrated by another build), so the schema
/// may not be what this binary's migrations describe.
public struct MigrationChecksumError: Error, CustomStringConvertible, Sendable {
    public var version: Int
    public var name: String
    /// The checksum recorded when the migration was applied.
    public var recorded: String
    /// The checksum of the SQL embedded in this binary (`Migrator.checksum`).
    public var embedded: String

    public var description: String {
        "migration \(name) (schemas/migrations/\(name).sql) was applied from a file with SHA-256 \(recorded), but this "
            + "gridloopd carries one with SHA-256 \(embedded): the file was changed after it was applied. Restore the "
            + "applied text of schemas/migrations/\(name).sql and put the change in a new numbered migration; if the "
            + "database is known to match the new text, clear the record with `UPDATE schema_migrations SET checksum = "
            + "NULL WHERE version = \(version)` and run `gridloopd migrate` to record the new one"
    }
}
