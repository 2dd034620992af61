import Foundation
import GridloopCore
import GridloopKafka
import GridloopSettings
import GridloopStore

/// What `gridloopd status` shows: is it caught up, is anything stuck, what is open. Every key of
/// its JSON is always present (null when unknown), so scripts can rely on them.
public struct StatusView: Encodable, Sendable {
    public struct Partition: Encodable, Sendable {
        public var topic: String
        public var partition: Int
        /// Next offset to apply, as committed in PostgreSQL with the state; nil: nothing
        /// committed yet (the intake starts at the earliest offset the broker keeps).
        public var committed: Int64?
        /// The broker's high watermark; nil when the brokers could not be asked.
        public var highWatermark: Int64?
        /// Messages on the broker not applied yet; nil when unknown.
        public var lag: Int64?
        /// When the offset was last committed (RFC 3339, +08:00); nil: never.
        public var updatedAt: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(topic, forKey: .topic)
            try c.encode(partition, forKey: .partition)
            try c.encode(committed, forKey: .committed)
            try c.encode(highWatermark, forKey: .highWatermark)
            try c.encode(lag, forKey: .lag)
            try c.encode(updatedAt, forKey: .updatedAt)
        }
        enum Key: String, CodingKey { case topic, partition, committed, highWatermark, lag, updatedAt }
    }

    public var consumerGroup: String
    public var partitions: [Partition]
    /// Sum of the known lags; nil when the brokers could not be asked.
    public var totalLag: Int64?
    /// Why the lag is unknown, if it is.
    public var brokerProblem: String?
    public var outboxBacklog: Int
    public var oldestUnsentAgeSeconds: Double?
    /// Clocks due and not fired yet, the earliest due instant among them and its case.
    public var dueTimers: Int
    public var oldestDueTimer: String?
    public var oldestDueCase: String?
    /// That case's assignee, the unit that must act: `CODE NAME` (after an escalation, the unit
    /// that received it).
    public var oldestDueUnit: String?
    /// Dead letters since 00:00 today, Asia/Shanghai; and all not re-driven yet.
    public var deadLettersToday: Int
    public var deadLettersNotRetried: Int
    public var openCasesByLevel: [String: Int]
    /// Ranges the broker deleted before the intake applied them, not acknowledged yet (oldest
    /// first); empty when there are none.
    public var unacknowledgedGaps: [IntakeGap]
    public var asOf: String

    enum Key: String, CodingKey {
        case consumerGroup, partitions, totalLag, brokerProblem, outboxBacklog, oldestUnsentAgeSeconds, dueTimers,
            oldestDueTimer, oldestDueCase, oldestDueUnit, deadLettersToday, deadLettersNotRetried, openCasesByLevel,
            unacknowledgedGaps, asOf
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(consumerGroup, forKey: .consumerGroup)
        try c.encode(partitions, forKey: .partitions)
        try c.encode(totalLag, forKey: .totalLag)
        try c.encode(brokerProblem, forKey: .brokerProblem)
        try c.encode(outboxBacklog, forKey: .outboxBacklog)
        try c.encode(oldestUnsentAgeSeconds, forKey: .oldestUnsentAgeSeconds)
        try c.encode(dueTimers, forKey: .dueTimers)
        try c.encode(oldestDueTimer, forKey: .oldestDueTimer)
        try c.encode(oldestDueCase, forKey: .oldestDueCase)
        try c.encode(oldestDueUnit, forKey: .oldestDueUnit)
        try c.encode(deadLettersToday, forKey: .deadLettersToday)
        try c.encode(deadLettersNotRetried, forKey: .deadLettersNotRetried)
        try c.encode(openCasesByLevel, forKey: .openCasesByLevel)
        try c.encode(unacknowledgedGaps, forKey: .unacknowledgedGaps)
        try c.encode(asOf, forKey: .asOf)
    }

    /// Reads the database, then asks the brokers (one metadata request, one watermark request
    /// per partition, `brokerTimeout` each). Unreachable brokers do not fail the command: the lag
    /// is reported unknown, with the reason.
    public static func load(
        config: GridloopConfig, db: Database,
        brokerTimeout: Duration = .seconds(5)
    ) throws -> StatusView {
        var partitions = try StatusQueries.offsets(consumerGroup: config.consumerGroup, from: db).map {
            Partition(
                topic: $0.topicPartition.topic, partition: Int($0.topicPartition.partition), committed: $0.next,
                highWatermark: nil, lag: nil, updatedAt: $0.updatedAt)
        }
        var brokerProblem: String?
        var reached = true
        do {
            brokerProblem = try askBrokers(config: config, partitions: &partitions, timeout: brokerTimeout)
        } catch {
            for i in partitions.indices { partitions[i].lag = nil }
            reached = false
            brokerProblem =
                "lag unknown: the brokers \(config.brokers) did not answer (\(error)); "
                + "check kafka.brokers and that the brokers are up"
        }
        let counts = try StatusQueries.counts(from: db)
        let due = try StatusQueries.oldestDue(from: db)
        let levels = try HealthQueries.openCasesByLevel(db)
        var open: [String: Int] = ["ESTATE": 0, "COMMUNITY": 0, "STREET": 0, "DISTRICT": 0]
        for (level, n) in levels { open[level] = n }
        let gaps = try IntakeGapView.list(consumerGroup: config.consumerGroup, open: true, limit: 1000, from: db)
        return StatusView(
            consumerGroup: config.consumerGroup, partitions: partitions,
            totalLag: reached && partitions.allSatisfy { $0.lag != nil } ? partitions.compactMap(\.lag).reduce(0, +) : nil,
            brokerProblem: brokerProblem,
            outboxBacklog: counts.outboxBacklog, oldestUnsentAgeSeconds: counts.oldestUnsentAgeSeconds,
            dueTimers: counts.dueClocks, oldestDueTimer: due?.due, oldestDueCase: due?.caseId,
            oldestDueUnit: due.flatMap { d in d.unitCode.map { "\($0) \(d.unitName ?? "")" } },
            deadLettersToday: counts.deadLettersToday,
            deadLettersNotRetried: counts.deadLettersNotRetried, openCasesByLevel: open, unacknowledgedGaps: gaps.reversed(),
            asOf: counts.asOf)
    }

    /// Adds the intake topics' partitions the brokers know (a group that never committed still
    /// has a lag) and each partition's high watermark and lag. Throws when the brokers cannot be
    /// reached; returns what is unknown for other reasons (a topic the cluster does not have).
    static func askBrokers(config: GridloopConfig, partitions: inout [Partition], timeout: Duration) throws -> String? {
        var props = config.producerConfiguration
        props["log_level"] = "0"  // the reason is reported once, below the table, not as librdkafka log lines
        let client = try KafkaProducer(configuration: props, errorHandler: { _ in })
        let intake = [config.topics.intake12345, config.topics.intake12319]
        let known = try client.partitions(of: Array(Set(intake + partitions.map(\.topic))), timeout: timeout)
        for topic in intake {
            for p in known[topic] ?? [] where !partitions.contains(where: { $0.topic == topic && $0.partition == Int(p) }) {
                partitions.append(
                    Partition(
                        topic: topic, partition: Int(p), committed: nil, highWatermark: nil, lag: nil,
                        updatedAt: nil))
            }
        }
        partitions.sort { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        var problems: [String] = []
        for topic in Set(intake + partitions.map(\.topic)).sorted() where known[topic] == nil {
            problems.append("topic \(topic) does not exist on the brokers")
        }
        // The newest and oldest offsets of every partition the brokers know, in one request per
        // leader each, not a round trip per partition.
        let asked = partitions.map { TopicPartition(topic: $0.topic, partition: Int32($0.partition)) }
            .filter { known[$0.topic]?.contains($0.partition) == true }
        let highs = try client.offsets(asked, at: KafkaOffset.end, timeout: timeout)
        let lows = try client.offsets(asked, at: KafkaOffset.beginning, timeout: timeout)
        for i in partitions.indices {
            let tp = TopicPartition(topic: partitions[i].topic, partition: Int32(partitions[i].partition))
            guard let high = highs[tp], let low = lows[tp] else { continue }
            partitions[i].highWatermark = high
            // Nothing committed: the intake starts at the earliest offset kept. Below it (deleted
            // by retention), the intake can only resume at the earliest kept too.
            partitions[i].lag = max(0, high - max(partitions[i].committed ?? low, low))
        }
        return problems.isEmpty ? nil : "lag partly unknown: " + problems.joined(separator: "; ")
    }

    public func json() throws -> String {
        try prettyJSON(self)
    }

    public func text() -> String {
        var out = "consumer group \(consumerGroup), as of \(asOf)\n\n"
        out +=
            "\("TOPIC".rightPad(28)) \("PART".leftPad(4)) \("COMMITTED".leftPad(10)) \("HIGH".leftPad(10)) \("LAG".leftPad(8))  COMMITTED AT"
        for p in partitions {
            out +=
                "\n\(p.topic.rightPad(28)) \(String(p.partition).leftPad(4)) \((p.committed.map(String.init) ?? "-").leftPad(10)) "
                + "\((p.highWatermark.map(String.init) ?? "?").leftPad(10)) \((p.lag.map(String.init) ?? "?").leftPad(8))  "
                + (p.updatedAt ?? "never")
        }
        if partitions.isEmpty { out += "\n(no partition known: has gridloopd run with this group, do the intake topics exist?)" }
        out += "\n\("total lag".rightPad(56))\((totalLag.map(String.init) ?? "unknown").leftPad(8))"
        if let brokerProblem { out += "\n\(brokerProblem)" }
        out += "\n\noutbox backlog      \(outboxBacklog) unsent"
        if let age = oldestUnsentAgeSeconds { out += " (oldest \(Int(age)) s)" }
        out += "\ndue, not fired      \(dueTimers)"
        if let oldestDueTimer { out += " (oldest due \(oldestDueTimer), \(oldestDueCase ?? "?") at \(oldestDueUnit ?? "?"))" }
        out += "\ndead letters today  \(deadLettersToday) (not retried, all days: \(deadLettersNotRetried))"
        out +=
            "\nopen cases          "
            + ["ESTATE", "COMMUNITY", "STREET", "DISTRICT"]
            .map { "\($0) \(openCasesByLevel[$0] ?? 0)" }.joined(separator: "   ")
        out += "\nintake gaps         "
        if unacknowledgedGaps.isEmpty {
            out += "none unacknowledged"
        } else {
            out += "\(unacknowledgedGaps.count) NOT ACKNOWLEDGED (gridloopd gaps ack ID)"
            for g in unacknowledgedGaps { out += "\n  \(g.summary), detected \(g.detectedAt ?? "?")" }
        }
        return out
    }
}
