import GridloopPostgres

/// Brings the database schema up to date, one transaction per migration, serialised across
/// instances by an advisory lock so that several daemons may start at once.
public enum Migrator {
    /// Applies the migrations not applied yet; returns the names of those it applied.
    @discardableResult
    public static func migrate(_ connection: PostgresConnection) throws -> [String] {
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, context: "create schema_migrations")
        var applied: [String] = []
        try connection.transaction {
            try connection.query("SELECT pg_advisory_xact_lock(72112345)", context: "migration lock")
            let rows = try connection.query("SELECT version FROM schema_migrations", context: "read schema_migrations")
            let done = Set((0..<rows.count).compactMap { rows.int($0, 0) })
            for m in Migrations.all where !done.contains(m.version) {
                try connection.execute(m.sql, context: "migration \(m.name)")
                try connection.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                     [String(m.version), m.name], context: "record migration \(m.name)")
                applied.append(m.name)
            }
        }
        return applied
    }

    /// True when every migration this binary knows has been applied.
    public static func isCurrent(_ connection: PostgresConnection) throws -> Bool {
        let rows = try connection.query("""
            SELECT count(*) FROM schema_migrations WHERE version = ANY($1::int[])
            """, [PostgresArray.int(Migrations.all.map(\.version))], context: "check schema_migrations")
        return rows.int(0, 0) == Migrations.all.count
    }
}
