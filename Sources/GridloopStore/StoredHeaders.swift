import GridloopCore
import GridloopPostgres

/// Kafka headers as `held_events` and `dead_letters` keep them: two parallel arrays,
/// `msg_header_names text[]` and `msg_header_values bytea[]` (NULL element: no value; NULL
/// arrays: a row written before migration 003, headers not kept).
package enum StoredHeaders {
    /// Writes the two array columns.
    static func write(_ headers: [MessageHeader], to copy: inout CopyBinaryWriter) {
        copy.textArray(headers.map(\.name))
        copy.byteaArray(headers.map(\.value))
    }

    /// The headers of the rows of `table` whose `keyColumn` (text) is in `keys`, in order, by key.
    /// Rows without headers are absent.
    package static func read(_ db: PostgresConnection, table: String, keyColumn: String, keys: [String]) throws -> [String:
        [MessageHeader]]
    {
        guard !keys.isEmpty else { return [:] }
        let rows = try db.query(
            """
            SELECT t.\(keyColumn)::text, h.name, h.value
            FROM \(table) t CROSS JOIN LATERAL unnest(t.msg_header_names, t.msg_header_values) WITH ORDINALITY AS h(name, value, n)
            WHERE t.\(keyColumn)::text = ANY($1::text[]) ORDER BY 1, h.n
            """, [PostgresArray.text(keys)], context: "read the headers of \(table)")
        var out: [String: [MessageHeader]] = [:]
        for i in 0..<rows.count {
            out[rows.string(i, 0)!, default: []].append(MessageHeader(name: rows.string(i, 1) ?? "", value: rows.bytes(i, 2)))
        }
        return out
    }
}
