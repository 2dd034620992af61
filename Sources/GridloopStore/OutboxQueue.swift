import GridloopCore
import GridloopPostgres

/// The SQL of the outbox relay (`OutboxRelay`, in GridloopPipeline): its lock, the rows to
/// publish, their deletion, and `relay_positions`, the offset after the last message the relay
/// delivered per partition. Each runs in the caller's transaction (a relay round).
package enum OutboxQueue {
    /// Positions: per partition, the offset after the last message delivered to it.
    package typealias Positions = [TopicPartition: Int64]

    /// The advisory lock that the relays of all daemons sharing the database take in turn.
    static let lockKey: Int64 = 0x6772_6964_6C6F_6F70  // "gridloop"

    /// Takes the relay lock for the transaction; false when another relay holds it.
    package static func tryLock(_ connection: PostgresConnection) throws -> Bool {
        let lock = try connection.query(
            "SELECT pg_try_advisory_xact_lock($1)", [String(lockKey)],
            context: "take the relay lock")
        return lock.bool(0, 0) == true
    }

    /// A row to publish: its `seq` (to delete it once delivered) and the message.
    package typealias Queued = (seq: Int64, message: OutboxMessage)

    /// The binary COPY of outbox rows, each written by `write`.
    static let copyIn = """
        COPY outbox (id, topic, msg_key, payload, msg_header_names, msg_header_values) FROM STDIN (FORMAT binary)
        """

    /// Queues `messages` (reports, digests: what a command or a worker emits outside the intake's
    /// batches) in one COPY, in the caller's transaction.
    package static func queue(_ messages: [OutboxMessage], connection: PostgresConnection, context: String) throws {
        guard !messages.isEmpty else { return }
        var copy = CopyBinaryWriter(capacity: 4096)
        for m in messages { write(m, to: &copy) }
        try connection.copyIn(copyIn, data: copy.finished, context: context)
    }

    /// Appends `m` (a dead letter, a report, a digest) as one row of `copyIn`, its headers as they are.
    static func write(_ m: OutboxMessage, to copy: inout CopyBinaryWriter) {
        copy.text(m.id)
        copy.text(m.topic)
        copy.bytea(m.key)
        copy.bytea(m.value)
        StoredHeaders.write(m.headers, to: &copy)
        copy.endRow()
    }

    /// Appends a decision's event (`OutboxMessage.decision`) as one row of `copyIn`, without
    /// building the message. Its headers follow from its id, so the row stores none (empty arrays)
    /// and `oldest` derives them: about 150 bytes less per decision, written and deleted once
    /// each (with them stored, the intake benchmark lost about 7 %). No other message has none.
    static func writeDecision(_ r: DecisionRecord, to copy: inout CopyBinaryWriter) {
        copy.text(r.decision.id)
        copy.text(r.topic)
        copy.bytea(Array(r.decision.caseId.utf8))
        copy.bytea(r.payload)
        StoredHeaders.write([], to: &copy)
        copy.endRow()
    }

    /// The oldest `limit` rows, read in binary format (payloads and header values come as their
    /// bytes, not as hex). Throws `MalformedRow` for a row that cannot be read back.
    package static func oldest(_ limit: Int, connection: PostgresConnection) throws -> [Queued] {
        let rows = try connection.queryBinary(
            """
            SELECT seq, id, topic, msg_key, payload, msg_header_names, msg_header_values FROM outbox ORDER BY seq LIMIT $1
            """, [String(limit)], context: "read outbox rows")
        var out: [Queued] = []
        out.reserveCapacity(rows.count)
        for i in 0..<rows.count {
            guard let seq = rows.int64(i, 0) else {
                throw MalformedRow(table: "outbox", row: "\(i + 1) of those read", column: "seq")
            }
            func malformed(_ column: String) -> MalformedRow { MalformedRow(table: "outbox", row: "seq \(seq)", column: column) }
            guard let id = rows.string(i, 1) else { throw malformed("id") }
            guard let topic = rows.string(i, 2) else { throw malformed("topic") }
            guard let value = rows.bytes(i, 4) else { throw malformed("payload") }
            guard let headers = StoredHeaders.decode(rows, row: i, names: 5, values: 6) else {
                throw malformed("msg_header_names, msg_header_values")
            }
            out.append(
                (
                    seq,
                    OutboxMessage(
                        id: id, topic: topic, key: rows.bytes(i, 3), value: value,
                        headers: headers.isEmpty ? OutboxMessage.decisionHeaders(id: id) : headers)
                ))
        }
        return out
    }

    /// Deletes the delivered rows `seqs` and records `positions`, in one statement: the rows go,
    /// the positions move.
    package static func deletePublished(seqs: [Int64], positions: Positions, connection: PostgresConnection) throws {
        try connection.query(
            """
            WITH published AS (DELETE FROM outbox WHERE seq = ANY($1::bigint[]))
            \(upsertPositions(from: 2))
            """, [PostgresArray.int(seqs)] + positionArrays(positions),
            context: "delete published outbox rows")
    }

    /// The recorded positions.
    package static func positions(_ connection: PostgresConnection) throws -> Positions {
        let stored = try connection.query(
            "SELECT topic, partition, next_offset FROM relay_positions",
            context: "read relay positions")
        let t = "relay_positions"
        var positions: Positions = [:]
        for i in 0..<stored.count {
            let tp = TopicPartition(topic: try stored.string(i, 0, in: t), partition: Int32(try stored.int(i, 1, in: t)))
            positions[tp] = try stored.int64(i, 2, in: t)
        }
        return positions
    }

    /// Deletes the rows whose id is one of `ids` (found on the topics already); returns how many.
    package static func deletePublished(ids: [String], connection: PostgresConnection) throws -> Int {
        try connection.query(
            "DELETE FROM outbox WHERE id = ANY($1::text[])", [PostgresArray.text(ids)],
            context: "delete outbox rows found published"
        ).affected
    }

    /// Records `positions`.
    package static func record(_ positions: Positions, connection: PostgresConnection) throws {
        try connection.query(upsertPositions(from: 1), positionArrays(positions), context: "record relay positions")
    }

    /// `INSERT ... ON CONFLICT` of relay positions from three array parameters, `$first` on.
    static func upsertPositions(from first: Int) -> String {
        """
        INSERT INTO relay_positions (topic, partition, next_offset)
        SELECT * FROM unnest($\(first)::text[], $\(first + 1)::int[], $\(first + 2)::bigint[])
        ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset
        """
    }

    /// The three array parameters of `upsertPositions`.
    static func positionArrays(_ positions: Positions) -> [String?] {
        let sorted = positions.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }
        return [
            PostgresArray.text(sorted.map(\.key.topic)), PostgresArray.int(sorted.map(\.key.partition)),
            PostgresArray.int(sorted.map(\.value)),
        ]
    }
}
