/// The release version: `gridloopd --version`, the Debian package's version (scripts/release/package.sh),
/// and what a database records of the binary that migrated it (schema_migrations.applied_by).
/// Raise it with every release; a release whose migrations contract the schema says so in them
/// (docs/OPERATIONS.md, "Upgrading without stopping the ladder").
let gridloopVersion = "0.29.0"
