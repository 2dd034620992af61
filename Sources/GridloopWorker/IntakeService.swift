import GridloopCore
import GridloopKafka
import GridloopPostgres
import Logging

// Threading: `IntakeService.run()` runs on one dedicated thread, which owns the Kafka
// consumer, the PostgreSQL connection and the store. librdkafka calls the rebalance handler
// from inside `poll` on that same thread, so a rebalance never overlaps a batch: the batch
// before it is committed, and the next one starts from the offsets the database holds.

/// Counters that other threads (status, metrics, tests) may read.
public final class IntakeCounters: Sendable {
    private let box = Mutex<[String: Int]>([:])
    public init() {}
    public func add(_ key: String, _ n: Int) { if n != 0 { box.withLock { $0[key, default: 0] += n } } }
    public func snapshot() -> [String: Int] { box.withLock { $0 } }
}

import Synchronization

/// Consumes both intake topics and applies them to PostgreSQL effectively once: each batch's
/// state, history, held events, dead letters and consumer offsets commit in one transaction.
public final class IntakeService: @unchecked Sendable {
    // @unchecked: every mutable field below is touched only by the thread that calls run().
    private let config: GridloopConfig
    private let logger: Logger
    private let stop: StopSignal
    public let counters: IntakeCounters
    private let onCommit: @Sendable () -> Void

    private var store: IntakeStore?
    /// Stored next offset of each assigned partition, as this instance last read or wrote it.
    private var positions: [TopicPartition: Int64] = [:]
    private var errors = RepeatedErrorLog()

    /// - Parameter onCommit: called after every committed batch that wrote outbox rows (wakes the relay).
    public init(config: GridloopConfig, logger: Logger, stop: StopSignal, counters: IntakeCounters = IntakeCounters(),
                onCommit: @escaping @Sendable () -> Void = {}) {
        self.config = config
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
                let wait = backoff.nextMillis()
                errors.error(logger, "intake interrupted, retrying in \(wait) ms: \(error)")
                store = nil
                stop.sleep(millis: wait)
            }
        }
        logger.info("intake stopped")
    }

    /// One connected session: a database connection and a consumer group membership.
    private func session() throws {
        let connection = try PostgresConnection(config.databaseURL)
        guard try Migrator.isCurrent(connection) else {
            throw ConfigError(file: "database", line: nil, key: "schema",
                              problem: "not migrated to this version; run `gridloopd migrate`")
        }
        let decode = Self.decoder(for: config.topics)
        let store = try IntakeStore(connection: connection, consumerGroup: config.consumerGroup,
                                    deadLetterTopic: config.topics.deadLetter, decode: decode)
        self.store = store
        positions = [:]
        let handler = Rebalance(service: self)
        let logger = self.logger
        let consumer = try KafkaConsumer(
            configuration: config.consumerConfiguration,
            topics: [config.topics.intake12345, config.topics.intake12319],
            rebalanceHandler: handler,
            errorHandler: { error in logger.warning("kafka: \(error)") })
        defer { consumer.close() }
        logger.info("intake connected", metadata: ["group": "\(config.consumerGroup)"])
        errors.reset()
        var lastExpiry = monotonicNanos()
        var pending: [KafkaMessage] = []
        while !stop.isSet {
            if pending.isEmpty {
                pending = try consumer.poll(maxMessages: config.batchMaxMessages,
                                            timeout: .milliseconds(config.batchMaxWaitMillis))
            }
            if !pending.isEmpty {
                try apply(pending, store: store)
                pending = []
            }
            if monotonicNanos() - lastExpiry > 1_000_000_000 {
                try expireHeld(store: store)
                lastExpiry = monotonicNanos()
            }
        }
    }

    /// Decodes, plans and commits one batch. On a database failure the error propagates and the
    /// batch is read again after reconnecting (offsets were not moved).
    func apply(_ messages: [KafkaMessage], store: IntakeStore) throws {
        let started = monotonicNanos()
        let decode = Self.decoder(for: config.topics)
        var items: [IntakeItem] = []
        items.reserveCapacity(messages.count)
        var caseIds: Set<String> = []
        var keys: [String] = []
        keys.reserveCapacity(messages.count)
        var cursor = positions
        for m in messages {
            // Apply only messages of partitions we own, at or after the stored position, each
            // once: a rebalance inside poll may hand back messages the database already has.
            let tp = TopicPartition(topic: m.topic, partition: m.partition)
            guard let position = cursor[tp], m.offset >= position else { continue }
            cursor[tp] = m.offset + 1
            let outcome = decode(m.topic, m.key, m.value)
            if case .event(let e) = outcome {
                caseIds.insert(e.caseId)
                keys.append(e.eventKey)
            }
            items.append(IntakeItem(coordinates: SourceCoordinates(topic: m.topic, partition: m.partition, offset: m.offset),
                                    key: m.key, value: m.value, outcome: outcome))
        }
        guard !items.isEmpty else { return }
        let now = wallClockMillis()
        let ctx = try store.context(caseIds: caseIds, eventKeys: keys)
        var planner = IntakePlanner(states: ctx.states, appliedKeys: ctx.appliedKeys, held: ctx.held)
        for item in items { planner.offer(item, now: now) }
        let next = IntakePlanner.nextOffsets(items).map {
            PartitionOffset(topic: $0.topic, partition: $0.partition, offset: $0.offset)
        }
        let expected = next.map {
            PartitionOffset(topic: $0.topic, partition: $0.partition,
                            offset: positions[TopicPartition(topic: $0.topic, partition: $0.partition)] ?? -2)
        }
        try store.commit(planner, expected: expected, next: next)
        for n in next { positions[TopicPartition(topic: n.topic, partition: n.partition)] = n.offset }
        record(planner, messages: items.count)
        if !planner.deadLetters.isEmpty { onCommit() }
        let micros = (monotonicNanos() - started) / 1000
        logger.debug("batch committed", metadata: [
            "messages": "\(items.count)", "applied": "\(planner.applied.count)", "micros": "\(micros)",
        ])
    }

    private func expireHeld(store: IntakeStore) throws {
        let owned = positions.keys.map { PartitionOffset(topic: $0.topic, partition: $0.partition, offset: 0) }
        guard !owned.isEmpty else { return }
        let cutoff = wallClockMillis() - Int64(config.holdSeconds) * 1000
        let planner = try store.expireHeld(before: cutoff, holdSeconds: config.holdSeconds, partitions: owned)
        record(planner, messages: 0)
        if !planner.deadLetters.isEmpty { onCommit() }
    }

    private func record(_ planner: IntakePlanner, messages: Int) {
        counters.add("messages", messages)
        counters.add("applied", planner.applied.count)
        counters.add("duplicates", planner.duplicates)
        counters.add("held", planner.newlyHeld.count)
        counters.add("dead_letters", planner.deadLetters.count)
        counters.add("skipped", planner.skipped.count)
        counters.add("batches", messages > 0 ? 1 : 0)
        for d in planner.deadLetters {
            logger.warning("dead letter", metadata: [
                "topic": "\(d.coordinates.topic)", "partition": "\(d.coordinates.partition)",
                "offset": "\(d.coordinates.offset)", "reason": "\(d.reason)",
            ])
        }
        for s in planner.skipped {
            logger.notice("skipped message", metadata: [
                "topic": "\(s.coordinates.topic)", "partition": "\(s.coordinates.partition)",
                "offset": "\(s.coordinates.offset)", "reason": "\(s.reason)",
            ])
        }
    }

    // MARK: Rebalance (runs inside poll, on the intake thread)

    fileprivate func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        guard let store else { throw ConfigError(file: "intake", line: nil, key: "store", problem: "not connected") }
        let stored = try store.offsets(for: partitions.map {
            PartitionOffset(topic: $0.topic, partition: $0.partition, offset: -2)
        })
        var start: [TopicPartition: Int64] = [:]
        for s in stored {
            let tp = TopicPartition(topic: s.topic, partition: s.partition)
            positions[tp] = s.offset
            if s.offset >= 0 { start[tp] = s.offset }
        }
        logger.info("partitions assigned", metadata: [
            "partitions": "\(partitions.map { "\($0.topic)[\($0.partition)]@\(positions[$0] ?? -2)" }.sorted().joined(separator: ","))",
        ])
        return start
    }

    fileprivate func revoked(_ partitions: [TopicPartition]) {
        // Every batch is committed before poll returns control to librdkafka, so there is no
        // in-flight work here: forget the positions so stray messages are not applied.
        for p in partitions { positions[p] = nil }
        logger.info("partitions revoked", metadata: ["count": "\(partitions.count)"])
    }

    private final class Rebalance: KafkaRebalanceHandler, @unchecked Sendable {
        // @unchecked: called only on the intake thread, inside poll.
        unowned let service: IntakeService
        init(service: IntakeService) { self.service = service }
        func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
            try service.assigned(partitions)
        }
        func revoked(_ partitions: [TopicPartition]) { service.revoked(partitions) }
    }
}
