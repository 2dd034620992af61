/// The database was migrated by a newer gridloopd whose migrations contract the schema (drop or
/// change what this binary uses): this binary cannot run on it. Migrations are written
/// expand-then-contract (docs/OPERATIONS.md, "Upgrading without stopping the ladder"): an
/// expand migration leaves the previous version running; a contract one says, in a line
/// `-- oldest-binary-schema: N`, that only a gridloopd carrying migration N or later runs after it.
public struct SchemaTooNewError: Error, CustomStringConvertible, Sendable {
    /// The migration that set the requirement, and the version of the gridloopd that applied it.
    public var migration: String
    public var appliedBy: String?
    /// The oldest schema (highest migration carried) a binary must have.
    public var requiredSchema: Int
    /// The highest migration this binary carries.
    public var knownSchema: Int

    public var description: String {
        "the database's schema is too new for this gridloopd: migration \(migration)"
            + (appliedBy.map { " (applied by gridloopd \($0))" } ?? "")
            + " needs a gridloopd that carries migration \(String(format: "%03d", requiredSchema)) or later, and this one "
            + "carries migrations up to \(String(format: "%03d", knownSchema)). Install gridloopd "
            + (appliedBy.map { "\($0) or later" } ?? "of that schema or later")
            + " on this host (a downgrade past a contract migration is not possible)"
    }
}
