import GridloopCore
import GridloopPostgres

/// A range of an intake partition the intake can no longer read: the broker deleted it before it
/// was applied (the log start passed the stored offset), or the stored offset lies beyond the end
/// of the log (the topic was recreated). One row of `intake_gaps`.
public struct IntakeGap: Encodable, Sendable, Equatable {
    /// The row's id (0 before it is recorded).
    public var id: Int64
    public var topic: String
    public var partition: Int
    /// The stored next offset that could not be read.
    public var fromOffset: Int64
    /// Where reading resumed: the partition's log start when the gap was found.
    public var toOffset: Int64
    /// `toOffset - fromOffset`; nil when the stored offset lay beyond the end of the log, where
    /// what the old topic held past the new end cannot be known.
    public var messagesLost: Int64?
    public var reason: String
    /// RFC 3339, +08:00.
    public var detectedAt: String?
    public var acknowledgedAt: String?
    public var acknowledgedBy: String?

    /// The gap a stored next offset makes with the partition's watermarks, or nil when that
    /// offset can still be read: -2 ("beginning", a partition never seen) is no gap, nor is an
    /// offset from the log start up to the high watermark (the next message to come).
    public static func find(topic: String, partition: Int32, stored: Int64, low: Int64, high: Int64) -> IntakeGap? {
        guard stored >= 0, low >= 0, high >= low else { return nil }
        if stored < low {
            return IntakeGap(
                id: 0, topic: topic, partition: Int(partition), fromOffset: stored, toOffset: low,
                messagesLost: low - stored,
                reason: "deleted by the broker before they were applied (log start \(low))")
        }
        if stored > high {
            return IntakeGap(
                id: 0, topic: topic, partition: Int(partition), fromOffset: stored, toOffset: low,
                messagesLost: nil,
                reason: "stored offset is beyond the end of the log (high watermark \(high)): topic recreated?")
        }
        return nil
    }

    /// `topic[partition] from..to (n lost)`, for readiness and log lines.
    public var summary: String {
        "gap \(id) in \(topic)[\(partition)]: offsets \(fromOffset)..<\(toOffset), "
            + (messagesLost.map { "\($0) messages lost" } ?? "messages lost unknown")
    }

    enum Key: String, CodingKey {
        case id, topic, partition, fromOffset, toOffset, messagesLost, reason, detectedAt, acknowledgedAt, acknowledgedBy
    }

    // Every key is always present (null when unknown), as in the other views.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(id, forKey: .id)
        try c.encode(topic, forKey: .topic)
        try c.encode(partition, forKey: .partition)
        try c.encode(fromOffset, forKey: .fromOffset)
        try c.encode(toOffset, forKey: .toOffset)
        try c.encode(messagesLost, forKey: .messagesLost)
        try c.encode(reason, forKey: .reason)
        try c.encode(detectedAt, forKey: .detectedAt)
        try c.encode(acknowledgedAt, forKey: .acknowledgedAt)
        try c.encode(acknowledgedBy, forKey: .acknowledgedBy)
    }
}

extension IntakeStore {
    /// Records `gap` and moves the stored offset from its `fromOffset` to its `toOffset`, in one
    /// transaction, so that a restart does not find the same gap again. Throws
    /// `OffsetFenceError` if another member moved the offset. Returns the gap's id.
    package func record(_ gap: IntakeGap) throws -> Int64 {
        try connection.transaction {
            let moved = try connection.query(
                """
                UPDATE consumer_offsets SET next_offset = $5, updated_at = clock_timestamp()
                WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND next_offset = $4
                """, [consumerGroup, gap.topic, "\(gap.partition)", "\(gap.fromOffset)", "\(gap.toOffset)"],
                context: "move consumer offset past a gap")
            if moved.affected != 1 { throw OffsetFenceError() }
            let r = try connection.query(
                """
                INSERT INTO intake_gaps (consumer_group, topic, partition, from_offset, to_offset, messages_lost, reason)
                VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
                """,
                [
                    consumerGroup, gap.topic, "\(gap.partition)", "\(gap.fromOffset)", "\(gap.toOffset)",
                    gap.messagesLost.map { "\($0)" }, gap.reason,
                ], context: "record intake gap")
            return try r.int64(0, 0, in: "intake_gaps")
        }
    }

    /// Those of `partitions` with a gap not acknowledged yet.
    package func unacknowledgedGaps(in partitions: [TopicPartition]) throws -> Set<TopicPartition> {
        guard !partitions.isEmpty else { return [] }
        let r = try connection.query(
            """
            SELECT DISTINCT topic, partition FROM intake_gaps
            WHERE consumer_group = $1 AND acknowledged_at IS NULL
              AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))
            """, [consumerGroup, PostgresArray.text(partitions.map(\.topic)), PostgresArray.int(partitions.map(\.partition))],
            context: "read unacknowledged intake gaps")
        return Set(
            try (0..<r.count).map {
                TopicPartition(
                    topic: try r.string($0, 0, in: "intake_gaps"), partition: Int32(try r.int($0, 1, in: "intake_gaps")))
            })
    }
}
