import GridloopCore
import GridloopPostgres

/// Brings the database schema up to date, one transaction per migration. Instances serialise on a
/// session-level advisory lock taken before anything is read or created, so several
/// `gridloopd migrate` may start at once on an empty database: one applies, the others wait and
/// then find nothing left to do. Each applied migration's row records the SHA-256 of its SQL, and a
/// migration whose file changed after it was applied is refused (`MigrationChecksumError`).
public enum Migrator {
    /// The advisory lock key; the same as earlier versions used, so that an older binary migrating
    /// at the same time still waits for this one.
    static let lockKey = 72_112_345

    /// Applies the migrations not applied yet; returns the names of those it applied. Throws
    /// `MigrationChecksumError`, before applying anything, when an applied one has changed.
    /// - Parameter appliedBy: the release version recorded with each migration applied (a binary
    ///   refused for a too-new schema is told which version to install).
    @discardableResult
    public static func migrate(_ connection: PostgresConnection, appliedBy: String? = nil) throws -> [String] {
        // A session lock rather than a transaction's: it has to cover the bookkeeping table's
        // creation and every migration's own transaction. It goes with the session if we die.
        try connection.query("SELECT pg_advisory_lock(\(lockKey))", context: "take the migration lock")
        defer { _ = try? connection.query("SELECT pg_advisory_unlock(\(lockKey))", context: "release the migration lock") }

        // The bookkeeping table is the migrator's own, not a numbered migration: the checksum check
        // reads it before any migration runs, so it cannot wait for one. It is created, and given
        // the checksum column that databases migrated by earlier versions lack, idempotently here.
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
                checksum text)
            """, context: "create schema_migrations")
        try connection.execute(
            "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text",
            context: "add schema_migrations.checksum")
        // Expand-then-contract bookkeeping (added by 0.19.0; older binaries ignore the columns).
        try connection.execute(
            """
            ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS oldest_binary_schema integer,
                ADD COLUMN IF NOT EXISTS applied_by text
            """, context: "add schema_migrations.oldest_binary_schema")

        let recorded = try appliedChecksums(connection)
        try verify(recorded)
        try requireCompatible(connection)
        // Rows applied before checksums were recorded: record the embedded SQL's. Whether the file
        // changed between then and now cannot be known any more; from here on it is checked.
        for m in Migrations.all {
            guard let entry = recorded[m.version], entry == nil else { continue }
            try connection.query(
                "UPDATE schema_migrations SET checksum = $2 WHERE version = $1 AND checksum IS NULL",
                [String(m.version), checksum(m.sql)], context: "record checksum of \(m.name)")
        }

        var applied: [String] = []
        for m in Migrations.all where recorded[m.version] == nil {
            try connection.transaction {
                try connection.execute(m.sql, context: "migration \(m.name)")
                try connection.query(
                    """
                    INSERT INTO schema_migrations (version, name, checksum, oldest_binary_schema, applied_by)
                    VALUES ($1, $2, $3, $4, $5)
                    """,
                    [String(m.version), m.name, checksum(m.sql), oldestBinarySchema(m.sql).map(String.init), appliedBy],
                    context: "record migration \(m.name)")
            }
            applied.append(m.name)
        }
        return applied
    }

    /// True when every migration this binary knows has been applied. Throws
    /// `MigrationChecksumError` when one was applied from other SQL than this binary carries.
    /// Throws `SchemaTooNewError` when a newer gridloopd contracted the schema past what this
    /// one runs with. A schema with migrations this binary does not carry is otherwise fine: they
    /// only expanded it (the previous version keeps running during a rolling upgrade).
    public static func isCurrent(_ connection: PostgresConnection) throws -> Bool {
        let recorded = try appliedChecksums(connection)
        try verify(recorded)
        try requireCompatible(connection)
        return Migrations.all.allSatisfy { recorded[$0.version] != nil }
    }

    /// The highest migration this binary carries: its schema.
    public static var latest: Int { Migrations.all.last?.version ?? 0 }

    /// What a contract migration declares in a line `-- oldest-binary-schema: N`: only binaries
    /// carrying migration N or later run once it is applied. Nil for an expand migration.
    public static func oldestBinarySchema(_ sql: String) -> Int? {
        for line in sql.split(separator: "\n") where line.hasPrefix("-- oldest-binary-schema:") {
            return Int(line.dropFirst("-- oldest-binary-schema:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Throws `SchemaTooNewError` for the applied migration with the highest requirement, if this
    /// binary does not meet it. Read through `to_jsonb`: the columns may not exist yet.
    static func requireCompatible(_ connection: PostgresConnection) throws {
        let rows = try connection.query(
            """
            SELECT name, (to_jsonb(m) ->> 'oldest_binary_schema')::integer AS needs, to_jsonb(m) ->> 'applied_by'
              FROM schema_migrations m
             WHERE (to_jsonb(m) ->> 'oldest_binary_schema') IS NOT NULL
             ORDER BY needs DESC, version DESC LIMIT 1
            """, context: "read schema_migrations requirements")
        guard rows.count > 0, let needs = rows.int(0, 1), needs > latest else { return }
        throw SchemaTooNewError(
            migration: rows.string(0, 0) ?? "?", appliedBy: rows.string(0, 2), requiredSchema: needs, knownSchema: latest)
    }

    /// The checksum recorded for a migration: the SHA-256 of its file in `schemas/migrations`, so
    /// that `sha256sum schemas/migrations/*.sql` can be compared with the table. The embedded text
    /// is the file without its last newline (a multi-line literal drops it), hence the "\n".
    public static func checksum(_ sql: String) -> String { SHA256.hex(sql + "\n") }

    /// The applied versions and their recorded checksums (nil for rows from before checksums).
    /// Read through `to_jsonb` so that it works on a table without the column too: a daemon of
    /// this version started on a database the previous version migrated is not refused for it.
    static func appliedChecksums(_ connection: PostgresConnection) throws -> [Int: String?] {
        let rows = try connection.query(
            "SELECT version, to_jsonb(m) ->> 'checksum' FROM schema_migrations m",
            context: "read schema_migrations")
        var recorded: [Int: String?] = [:]
        for row in 0..<rows.count {
            guard let version = rows.int(row, 0) else { continue }
            recorded[version] = rows.string(row, 1)
        }
        return recorded
    }

    /// Throws for the first embedded migration whose recorded checksum differs from its SQL's.
    static func verify(_ recorded: [Int: String?]) throws {
        for m in Migrations.all {
            guard let entry = recorded[m.version], let stored = entry else { continue }
            let embedded = checksum(m.sql)
            if stored != embedded {
                throw MigrationChecksumError(version: m.version, name: m.name, recorded: stored, embedded: embedded)
            }
        }
    }
}
