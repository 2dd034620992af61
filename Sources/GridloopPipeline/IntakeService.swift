import CoreMetrics
import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopSettings
import GridloopStore
import Logging
import Synchronization

// Threading: `IntakeService.run()` runs on one dedicated thread, which owns the Kafka
// consumer, the PostgreSQL connection and the store. librdkafka calls the rebalance handler
// from inside `poll` on that same thread, so a rebalance never overlaps a batch: the batch
// before it is committed, and the next one starts from the offsets the database holds.

/// Consumes both intake topics and applies them to PostgreSQL effectively once: each batch's
/// state, history, held events, dead letters and consumer offsets commit in one transaction.
public final class IntakeService: @unchecked Sendable {
    // @unchecked: every mutable field below is touched only by the thread that calls run().
    let config: GridloopConfig
    let logger: Logger
    /// The SLA clocks: started, stopped and fired by this thread, in the batches' transactions.
    /// Replaced by a reload (SIGHUP) between batches. The keeper in force (the policy, calendars
    /// and directory of the last reload).
    public var keeper: ClockKeeper { keeperBox.withLock { $0 } }
    private let keeperBox: Mutex<ClockKeeper>
    private let stop: StopSignal
    public let counters: IntakeCounters
    /// Readiness and heartbeats, read by the HTTP listener and the systemd watchdog.
    public let health: Health
    let onCommit: @Sendable () -> Void
    /// Offsets of batches the database refused for their data, per partition: read again, they
    /// are committed in isolation (`IntakeSession.isolate`). Kept across sessions; forgotten
    /// once passed.
    var suspects: [TopicPartition: Range<Int64>] = [:]
    /// The unit keys whose escalations the directory file could not resolve, already warned
    /// about (once per code, not once per case). Touched on the commit thread.
    let unresolved = Mutex<Set<UnresolvedCode>>([])

    private var errors = RepeatedErrorLog()

    /// - Parameter onCommit: called after every committed batch that wrote outbox rows (wakes the relay).
    public init(
        config: GridloopConfig, keeper: ClockKeeper, logger: Logger, stop: StopSignal,
        counters: IntakeCounters = IntakeCounters(), health: Health = Health(),
        onCommit: @escaping @Sendable () -> Void = {}
    ) {
        self.config = config
        self.keeperBox = Mutex(keeper)
        self.health = health
        self.logger = logger
        self.stop = stop
        self.counters = counters
        self.onCommit = onCommit
    }

    /// The decoder for each intake topic.
    public static func decoder(for topics: GridloopConfig.Topics) -> @Sendable (String, [UInt8]?, [UInt8]) -> FeedDecodeOutcome {
        let t12345 = topics.intake12345
        let t12319 = topics.intake12319
        return { topic, key, value in
            if topic == t12345 { return FeedDecoder.decode12345(key: key, value: value) }
            if topic == t12319 { return FeedDecoder.decode12319(key: key, value: value) }
            return .rejected(reason: "message from topic \(topic), which is not an intake topic")
        }
    }

    /// Runs until the stop signal is set: connects (retrying with backoff), consumes, applies.
    public func run() {
        var backoff = Backoff()
        while !stop.isSet {
            do {
                try session()
                backoff.reset()
            } catch {
                let kind = FailureKind(error)
                // A batch refused for its data: no backoff, the next session isolates it.
                if case .data(let refused) = kind {
                    suspect(refused)
                    continue
                }
                let wait = backoff.nextMillis()
                errors.error(logger, "intake interrupted, retrying in \(wait) ms: \(error)")
                health.update {
                    $0.assignedPartitions = 0
                    $0.groupJoined = false
                    $0.lag = -1
                    $0.intakeBeat = monotonicNanos() + UInt64(wait) * 1_000_000
                    // Say at once what the health probe would find within a second.
                    if kind.meansDatabaseDown {
                        $0.databaseOK = false
                        $0.databaseProblem = "\(error)"
                    }
                    if kind.isIntakeProblem { $0.intakeProblem = "\(error)" }
                }
                stop.sleep(millis: wait)
            }
        }
        logger.info("intake stopped")
    }

    /// Remembers the offsets of a batch the database refused for its data. Not a fault of the
    /// database or the broker: the next session, started at once, reads the batch again and
    /// finds the message at fault.
    private func suspect(_ refused: RefusedBatch) {
        for (tp, range) in refused.ranges {
            let old = suspects[tp]
            let low = min(old?.lowerBound ?? range.lowerBound, range.lowerBound)
            let high = max(old?.upperBound ?? range.upperBound, range.upperBound)
            suspects[tp] = low..<high
        }
        logger.warning(
            "batch refused by the database for its data; committing its messages in isolation",
            metadata: [
                "sqlstate": "\(refused.error.sqlState ?? "")", "context": "\(refused.error.context)",
                "partitions":
                    "\(refused.ranges.map { "\($0.key)@\($0.value.lowerBound)..<\($0.value.upperBound)" }.sorted().joined(separator: ","))",
            ])
    }

    /// One connected session: two database connections (the intake thread reads on one, the
    /// commit thread writes on the other), a consumer group membership, and an `IntakeSession`
    /// built for it, dropped when it ends: the next one starts from the database.
    private func session() throws {
        let decode = Self.decoder(for: config.topics)
        let readConnection = try config.connectDatabase("gridloopd-intake")
        guard try Migrator.isCurrent(readConnection) else {
            throw ConfigError(
                file: "database", line: nil, key: "schema",
                problem: "not migrated to this version; run `gridloopd migrate`")
        }
        let reader = try IntakeStore(
            connection: readConnection, consumerGroup: config.consumerGroup,
            deadLetterTopic: config.topics.deadLetter, decode: decode)
        let writer = try IntakeStore(
            connection: try config.connectDatabase("gridloopd-commit"),
            consumerGroup: config.consumerGroup, deadLetterTopic: config.topics.deadLetter, decode: decode)
        // Up to three jobs planned ahead: batches and pages of due clocks differ in size, and with
        // one the intake and the commit thread kept waiting for each other.
        let committer = BatchCommitter(depth: 3)
        defer { committer.stop() }
        let session = IntakeSession(
            service: self, reader: reader, writer: writer, committer: committer,
            learned: LearnedUnits(try LearnedUnitQueries.all(from: readConnection)))
        let handler = IntakeSession.Rebalance(session: session)
        let logger = self.logger
        let health = self.health
        let consumer = try KafkaConsumer(
            configuration: config.consumerConfiguration,
            topics: [config.topics.intake12345, config.topics.intake12319],
            rebalanceHandler: handler,
            errorHandler: { error in
                logger.warning("kafka: \(error)")
                if error.isAllBrokersDown {
                    health.update {
                        $0.brokersOK = false
                        $0.brokersProblem = "\(error)"
                    }
                }
            })
        session.consumer = consumer
        defer {
            // Finish what is planned (a graceful stop commits it), then leave the group.
            try? committer.drain()
            consumer.close()
        }
        logger.info("intake connected", metadata: ["group": "\(config.consumerGroup)"])
        health.update { $0.intakeProblem = nil }
        errors.reset()
        try session.run(consumer, until: stop)
    }

    /// Replaces the SLA policy and calendar (a reload): clocks started from now on use them.
    public func replaceKeeper(_ keeper: ClockKeeper) { keeperBox.withLock { $0 = keeper } }
}
