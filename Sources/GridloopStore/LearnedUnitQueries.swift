import GridloopCore
import GridloopPostgres

/// `learned_units`: what the feeds taught about the unit directory (see `LearnedUnits`).
package enum LearnedUnitQueries {
    /// Every unit learned, by level and code.
    package static func all(from db: PostgresConnection) throws -> [UnitKey: LearnedUnits.Learned] {
        let rows = try db.query(
            """
            SELECT level, code, unit_code, unit_name, case_id,
                   (extract(epoch FROM learned_at) * 1000)::bigint
            FROM learned_units
            """, context: "read learned units")
        var out: [UnitKey: LearnedUnits.Learned] = [:]
        for i in 0..<rows.count {
            let t = "learned_units"
            let code = try rows.string(i, 1, in: t)
            guard let level = LoopLevel(rawValue: try rows.string(i, 0, in: t, key: 1)) else {
                throw MalformedRow(table: t, row: "code \(code)", column: "level")
            }
            out[UnitKey(level: level, code: code)] = .init(
                unit: UnitRef(unitCode: try rows.string(i, 2, in: t, key: 1), unitName: try rows.string(i, 3, in: t, key: 1)),
                caseId: try rows.string(i, 4, in: t, key: 1), at: try rows.int64(i, 5, in: t, key: 1))
        }
        return out
    }

    /// Records what a batch learned, in its transaction; a row learned later (in event time) stays.
    static func upsert(_ learned: [UnitKey: LearnedUnits.Learned], on db: PostgresConnection) throws {
        guard !learned.isEmpty else { return }
        let rows = learned.sorted { ($0.key.level.rank, $0.key.code) < ($1.key.level.rank, $1.key.code) }
        _ = try db.query(
            """
            INSERT INTO learned_units (level, code, unit_code, unit_name, case_id, learned_at)
            SELECT l, c, uc, un, ci, to_timestamp(at / 1000.0)
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                 AS u(l, c, uc, un, ci, at)
            ON CONFLICT (level, code) DO UPDATE
               SET unit_code = excluded.unit_code, unit_name = excluded.unit_name, case_id = excluded.case_id,
                   learned_at = excluded.learned_at
               WHERE learned_units.learned_at <= excluded.learned_at
            """,
            [
                PostgresArray.text(rows.map(\.key.level.rawValue)), PostgresArray.text(rows.map(\.key.code)),
                PostgresArray.text(rows.map(\.value.unit.unitCode)), PostgresArray.text(rows.map(\.value.unit.unitName)),
                PostgresArray.text(rows.map(\.value.caseId)), PostgresArray.int(rows.map(\.value.at)),
            ], context: "record learned units")
    }
}
