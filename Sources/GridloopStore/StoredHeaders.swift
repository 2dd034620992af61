import GridloopCore
import GridloopPostgres

/// Kafka headers as `held_events`, `dead_letters` and `outbox` keep them: two parallel arrays,
/// `msg_header_names text[]` and `msg_header_values bytea[]` (NULL element: no value; NULL
/// arrays: a held event or dead letter written before migration 003, headers not kept).
package enum StoredHeaders {
    /// Writes the two array columns.
    static func write(_ headers: [MessageHeader], to copy: inout CopyBinaryWriter) {
        copy.textArray(headers.map(\.name))
        copy.byteaArray(headers.map(\.value))
    }

    /// The headers in the two array cells `names` and `values` of a binary row; nil when the
    /// cells are not two arrays of the same length with a name in every element of the first.
    static func decode(_ rows: PostgresBinaryRows, row: Int, names: Int, values: Int) -> [MessageHeader]? {
        guard let n = rows.array(row, names), let v = rows.array(row, values), n.count == v.count else { return nil }
        var out: [MessageHeader] = []
        out.reserveCapacity(n.count)
        for (name, value) in zip(n, v) {
            guard let name else { return nil }
            out.append(MessageHeader(name: String(decoding: name, as: UTF8.self), value: value))
        }
        return out
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
            out[try rows.string(i, 0, in: table), default: []].append(
                MessageHeader(name: try rows.string(i, 1, in: table), value: rows.bytes(i, 2)))
        }
        return out
    }
}
