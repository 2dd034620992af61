import Foundation
import GridloopKafka
import GridloopPostgres

/// What `gridloopd status` shows: is it caught up, is anything stuck, what is open.
public struct StatusView: Codable, Sendable {
    public struct Partition: Codable, Sendable {
        public var topic: String
        public var partition: Int
        /// Next offset to apply, as committed in PostgreSQL with the state.
        public var committed: Int64
        /// The broker's high watermark; nil when the broker could not be asked.
        public var highWatermark: Int64?
        /// Messages not applied yet; nil when unknown.
        public var lag: Int64?
        public var updatedAt: String
    }

    public var consumerGroup: String
    public var partitions: [Partition]
    /// Why the lag is unknown, if it is.
    public var brokerProblem: String?
    public var outboxBacklog: Int
    public var oldestUnsentAgeSeconds: Double?
    /// The earliest due instant of a clock not fired yet (nil: none is due).
    public var oldestDueTimer: String?
    public var dueTimers: Int
    /// Dead letters since 00:00 today, Asia/Shanghai.
    public var deadLettersToday: Int
    public var openCasesByLevel: [String: Int]

    public static func load(config: GridloopConfig, db: PostgresConnection) throws -> StatusView {
        let t = CaseView.t
        let o = try db.query("""
            SELECT topic, partition, next_offset, \(t("updated_at")) FROM consumer_offsets
            WHERE consumer_group = $1 ORDER BY topic, partition
            """, [config.consumerGroup], context: "read consumer offsets")
        var partitions = (0..<o.count).map { i in
            Partition(topic: o.string(i, 0)!, partition: o.int(i, 1)!, committed: max(0, o.int64(i, 2)!), highWatermark: nil,
                      lag: nil, updatedAt: o.string(i, 3)!)
        }
        var brokerProblem: String?
        if !partitions.isEmpty {
            do {
                let producer = try KafkaProducer(configuration: config.producerConfiguration)
                for i in partitions.indices {
                    let (low, high) = try producer.watermarks(topic: partitions[i].topic, partition: Int32(partitions[i].partition),
                                                              timeout: .seconds(5))
                    partitions[i].highWatermark = high
                    // Nothing committed yet (-2 in the table): the intake starts at the earliest offset.
                    let position = partitions[i].committed > 0 ? partitions[i].committed : low
                    partitions[i].lag = max(0, high - position)
                }
            } catch {
                brokerProblem = "brokers \(config.brokers) not reachable: \(error)"
            }
        }
        let r = try db.query("""
            SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL),
                   (SELECT extract(epoch FROM now() - min(created_at))::float8 FROM outbox WHERE sent_at IS NULL),
                   (SELECT \(t("min(next_due)")) FROM case_clocks WHERE next_due <= now()),
                   (SELECT count(*) FROM case_clocks WHERE next_due <= now()),
                   (SELECT count(*) FROM dead_letters
                     WHERE created_at >= (date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'))
            """, context: "read status")
        let levels = try db.query("""
            SELECT level, count(*) FROM cases WHERE status NOT IN ('CLOSED', 'WITHDRAWN') GROUP BY level
            """, context: "count open cases")
        var open: [String: Int] = ["ESTATE": 0, "COMMUNITY": 0, "STREET": 0, "DISTRICT": 0]
        for i in 0..<levels.count { open[levels.string(i, 0)!] = levels.int(i, 1) ?? 0 }
        return StatusView(consumerGroup: config.consumerGroup, partitions: partitions, brokerProblem: brokerProblem,
                          outboxBacklog: r.int(0, 0) ?? 0, oldestUnsentAgeSeconds: r.string(0, 1).flatMap(Double.init),
                          oldestDueTimer: r.string(0, 2), dueTimers: r.int(0, 3) ?? 0, deadLettersToday: r.int(0, 4) ?? 0,
                          openCasesByLevel: open)
    }

    public func json() throws -> String {
        try prettyJSON(self)
    }

    public func text() -> String {
        var out = "consumer group \(consumerGroup)\n\n"
        out += "\("TOPIC".rightPad(28)) \("PART".leftPad(4)) \("COMMITTED".leftPad(10)) \("HIGH".leftPad(10)) \("LAG".leftPad(8))  COMMITTED AT"
        for p in partitions {
            out += "\n\(p.topic.rightPad(28)) \(String(p.partition).leftPad(4)) \(String(p.committed).leftPad(10)) "
                + "\((p.highWatermark.map(String.init) ?? "?").leftPad(10)) \((p.lag.map(String.init) ?? "?").leftPad(8))  \(p.updatedAt)"
        }
        if partitions.isEmpty { out += "\n(no partition committed yet: has gridloopd run with this group?)" }
        let total = partitions.compactMap(\.lag).reduce(0, +)
        out += "\n\("total lag".rightPad(28)) \(String(repeating: " ", count: 37))\(brokerProblem == nil ? String(total).leftPad(8) : "?".leftPad(8))"
        if let brokerProblem { out += "\n\(brokerProblem)" }
        out += "\n\noutbox backlog      \(outboxBacklog)"
        if let age = oldestUnsentAgeSeconds { out += " (oldest \(Int(age)) s)" }
        out += "\ndue, not fired      \(dueTimers)\(oldestDueTimer.map { " (oldest due \($0))" } ?? "")"
        out += "\ndead letters today  \(deadLettersToday)"
        out += "\nopen cases          " + ["ESTATE", "COMMUNITY", "STREET", "DISTRICT"]
            .map { "\($0) \(openCasesByLevel[$0] ?? 0)" }.joined(separator: "   ")
        return out
    }
}
