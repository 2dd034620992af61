import GridloopCore
import GridloopPostgres

/// The gaps people and the health probe read, and their acknowledgement (`gridloopd gaps`).
public enum IntakeGapView {
    static let columns = """
        id, topic, partition, from_offset, to_offset, messages_lost, reason, \(TimeSQL.t("detected_at")),
        \(TimeSQL.t("acknowledged_at")), acknowledged_by
        """

    static func gaps(_ r: PostgresRows) throws -> [IntakeGap] {
        let t = "intake_gaps"
        return try (0..<r.count).map { i in
            IntakeGap(
                id: try r.int64(i, 0, in: t), topic: try r.string(i, 1, in: t),
                partition: try r.int(i, 2, in: t), fromOffset: try r.int64(i, 3, in: t),
                toOffset: try r.int64(i, 4, in: t), messagesLost: r.int64(i, 5), reason: r.string(i, 6) ?? "",
                detectedAt: r.string(i, 7), acknowledgedAt: r.string(i, 8), acknowledgedBy: r.string(i, 9))
        }
    }

    /// The gaps of `consumerGroup`, newest first; only those not acknowledged with `open`.
    /// `timeout`: how long the query may take (the health probe must not hang on it).
    public static func list(
        consumerGroup: String, open: Bool = false, limit: Int = 100,
        from db: PostgresConnection, timeout: Duration? = nil
    ) throws -> [IntakeGap] {
        let sql = """
            SELECT \(columns) FROM intake_gaps
            WHERE consumer_group = $1 AND ($2::boolean IS FALSE OR acknowledged_at IS NULL)
            ORDER BY id DESC LIMIT $3
            """
        let parameters = [consumerGroup, open ? "true" : "false", "\(limit)"]
        if let timeout { return try gaps(try db.query(sql, parameters, timeout: timeout, context: "read intake gaps")) }
        return try gaps(try db.query(sql, parameters, context: "read intake gaps"))
    }

    /// Marks gap `id` acknowledged by `who`; returns it. Refuses an unknown id, or one
    /// acknowledged already (saying when and by whom).
    public static func acknowledge(
        id: Int64, consumerGroup: String, by who: String,
        db: PostgresConnection
    ) throws -> IntakeGap {
        let r = try db.query(
            """
            UPDATE intake_gaps SET acknowledged_at = now(), acknowledged_by = $3
            WHERE id = $1 AND consumer_group = $2 AND acknowledged_at IS NULL
            RETURNING \(columns)
            """, ["\(id)", consumerGroup, who], context: "acknowledge intake gap")
        if let gap = try gaps(r).first { return gap }
        let known = try gaps(
            try db.query(
                "SELECT \(columns) FROM intake_gaps WHERE id = $1 AND consumer_group = $2",
                ["\(id)", consumerGroup], context: "read intake gap"))
        guard let gap = known.first else {
            throw GapRefusal(message: "no gap \(id) for consumer group \(consumerGroup) (gridloopd gaps list shows them)")
        }
        throw GapRefusal(
            message: "gap \(id) was acknowledged already, at \(gap.acknowledgedAt ?? "?") by \(gap.acknowledgedBy ?? "?")")
    }
}
