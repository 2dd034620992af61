import GridloopPostgres

/// The SLA policy versions daemons ran (`policy_versions`, migration 015).
package enum PolicyVersionQueries {
    /// Records a version with its source and text; a version recorded before is left as it was.
    package static func record(version: String, source: String, document: String, db: PostgresConnection) throws {
        try db.query(
            """
            INSERT INTO policy_versions (version, source, document) VALUES ($1, $2, $3)
            ON CONFLICT (version) DO NOTHING
            """, [version, source, document], context: "record the policy version")
    }

    /// Source and first use (RFC 3339, +08:00) of each of `versions` recorded.
    package static func described(_ versions: [String], db: PostgresConnection) throws -> [String: (
        source: String, firstUsed: String
    )] {
        let rows = try db.query(
            "SELECT version, source, \(TimeSQL.t("first_used")) FROM policy_versions WHERE version = ANY($1::text[])",
            [PostgresArray.text(versions)], context: "read policy versions")
        var out: [String: (source: String, firstUsed: String)] = [:]
        for i in 0..<rows.count {
            if let v = rows.string(i, 0), let s = rows.string(i, 1), let t = rows.string(i, 2) { out[v] = (s, t) }
        }
        return out
    }

    /// The text of each of `versions` recorded.
    package static func documents(_ versions: [String], db: PostgresConnection) throws -> [String: (
        source: String, document: String
    )] {
        let rows = try db.query(
            "SELECT version, source, document FROM policy_versions WHERE version = ANY($1::text[])",
            [PostgresArray.text(versions)], context: "read policy documents")
        var out: [String: (source: String, document: String)] = [:]
        for i in 0..<rows.count {
            if let v = rows.string(i, 0), let s = rows.string(i, 1), let d = rows.string(i, 2) { out[v] = (s, d) }
        }
        return out
    }
}
