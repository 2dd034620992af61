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
    private var lastObserved: UInt64 = 0
    /// When this instance last joined the group or gave partitions up (monotonic ns).
    var groupWaitStart: UInt64 = 0
    private var lastBrokerProbe: UInt64 = 0
    private var lastIdleSweep: UInt64 = 0
    let onCommit: @Sendable () -> Void

    /// Reads (cases not cached, offsets at assignment) on the intake thread's own connection.
    var reader: IntakeStore?
    /// Writes, on a second connection, used by the commit thread (and by the intake thread only
    /// after `committer.drain()`).
    var writer: IntakeStore?
    var committer: BatchCommitter?
    /// Stored next offset of each assigned partition, as this instance last read or wrote it.
    var positions: [TopicPartition: Int64] = [:]
    /// Latest event time consumed on each assigned partition: how far event time has got there.
    var eventTime: [TopicPartition: Int64] = [:]
    /// Write-through cache of the cases of the partitions this instance holds, with the 12345
    /// message ids applied to each. Valid because only the holder of a partition writes its
    /// cases; emptied at every rebalance and reconnection; bounded by `intake.cacheMemory`.
    var cache = CaseCache(budget: 0)
    /// A superset of the cases with stored held events on the partitions held.
    var heldCases: Set<String> = []
    /// The intake positions after each batch submitted and perhaps not committed yet (by its
    /// committer job number): once the job is committed, they are the database's, and go to the
    /// consumer group too (`commitToGroup`).
    var groupSnapshots: [(job: Int, positions: [TopicPartition: Int64])] = []
    /// What was last committed to the consumer group, per partition held.
    var groupCommitted: [TopicPartition: Int64] = [:]
    /// Per batch submitted and perhaps not committed yet (its committer job number), the held
    /// events that remain, after it, of each case whose held rows it writes or deletes. The next
    /// batch takes those cases' held events from here (the stored rows may not be written yet)
    /// and reads only the others from the database, so it never waits for the commit thread.
    var heldInFlight: [(job: Int, held: [String: [HeldEvent]])] = []
    /// The committer job of the last page of due clocks fired.
    var lastFireJob = 0
    /// Per page of due clocks fired and perhaps not committed yet, the cases it fired that are
    /// not cached: they are read from the database only once it has committed.
    var firedUncached: [(job: Int, cases: Set<String>)] = []
    /// Offsets of batches the database refused for their data, per partition: read again, they
    /// are committed in isolation (`isolate`). Kept across sessions; forgotten once passed.
    private var suspects: [TopicPartition: Range<Int64>] = [:]
    /// What the feeds taught about the unit directory (`learned_units`): read at every session
    /// start and every minute (other instances learn too), and extended by each batch planned.
    var learned = LearnedUnits()
    private var lastLearnedRefresh: UInt64 = 0
    /// The unit keys whose escalations the directory file could not resolve, already warned
    /// about (once per code, not once per case). Touched on the commit thread.
    let unresolved = Mutex<Set<UnresolvedCode>>([])
    /// The session's consumer: the rebalance handler (inside its poll) compares stored offsets
    /// with the log through it (IntakeService+Gaps.swift).
    weak var consumer: KafkaConsumer?
    /// Assigned partitions left unread for a gap not acknowledged yet (intake.onOffsetGap: stop).
    var gapStopped: Set<TopicPartition> = []
    /// When the intake last asked whether the gaps of `gapStopped` were acknowledged (monotonic ns).
    var lastGapCheck: UInt64 = 0

    private var errors = RepeatedErrorLog()

    /// - Parameter onCommit: called after every committed batch that wrote outbox rows (wakes the relay).
    public init(
        config: GridloopConfig, keeper: ClockKeeper, logger: Logger, stop: StopSignal,
        counters: IntakeCounters = IntakeCounters(), health: Health = Health(),
        onCommit: @escaping @Sendable () -> Void = {}
    ) {
        self.config = config
        self.cache = CaseCache(budget: config.cacheMemoryBytes)
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
                reader = nil
                writer = nil
                committer = nil
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

    /// One connected session: a database connection and a consumer group membership.
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
        self.reader = reader
        self.writer = writer
        self.committer = committer
        positions = [:]
        eventTime = [:]
        cache.removeAll()
        heldCases = []
        heldInFlight = []
        groupSnapshots = []
        groupCommitted = [:]
        lastFireJob = 0
        firedUncached = []
        gapStopped = []
        learned = LearnedUnits(try LearnedUnitQueries.all(from: readConnection))
        lastLearnedRefresh = monotonicNanos()
        defer { committer.stop() }
        let handler = Rebalance(service: self)
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
        self.consumer = consumer
        defer {
            // Finish what is planned (a graceful stop commits it), then leave the group.
            try? committer.drain()
            consumer.close()
        }
        logger.info("intake connected", metadata: ["group": "\(config.consumerGroup)"])
        health.update { $0.intakeProblem = nil }
        groupWaitStart = monotonicNanos()
        errors.reset()
        var lastExpiry = monotonicNanos()
        var lastFiring = monotonicNanos()
        while !stop.isSet {
            let messages = try consumer.poll(
                maxMessages: config.batchMaxMessages,
                timeout: .milliseconds(config.batchMaxWaitMillis))
            if !messages.isEmpty { try apply(messages) }
            try committer.checkFailure()
            try handleGaps(consumer)
            if monotonicNanos() - lastExpiry > 1_000_000_000 {
                try expireHeld(consumer)
                lastExpiry = monotonicNanos()
            }
            if monotonicNanos() - lastFiring > 200_000_000 {
                try fireDue(consumer)
                lastFiring = monotonicNanos()
            }
            if monotonicNanos() - lastLearnedRefresh > 60_000_000_000 {
                learned.merge(try LearnedUnitQueries.all(from: readConnection))
                lastLearnedRefresh = monotonicNanos()
            }
            observe(consumer)
        }
    }

    /// Replaces the SLA policy and calendar (a reload): clocks started from now on use them.
    public func replaceKeeper(_ keeper: ClockKeeper) { keeperBox.withLock { $0 = keeper } }

    /// Heartbeat, consumer lag per partition (gauges and readiness) and, while the brokers
    /// were reported down, a cheap probe that notices when they are back.
    private func observe(_ consumer: KafkaConsumer) {
        let now = monotonicNanos()
        guard now - lastObserved > 1_000_000_000 else {
            health.update { $0.intakeBeat = now }
            return
        }
        lastObserved = now
        var total: Int64 = 0
        var known = true
        for (tp, position) in positions {
            let high = consumer.cachedWatermarks(tp).high
            guard high >= 0 else {
                known = false
                continue
            }
            let lag = max(0, high - max(position, 0))
            total += lag
            Gauge(label: Metric.consumerLag, dimensions: [("topic", tp.topic), ("partition", "\(tp.partition)")]).record(lag)
        }
        var brokersOK = health.state.brokersOK
        if !brokersOK, now - lastBrokerProbe > 2_000_000_000, let tp = positions.keys.first {
            lastBrokerProbe = now
            if (try? consumer.watermarks(tp, timeout: .milliseconds(500))) != nil { brokersOK = true }
        }
        cache.tick = now / 1_000_000_000
        if now - lastIdleSweep > 60_000_000_000, let committer {
            lastIdleSweep = now
            cache.evictIdle(committedUpTo: committer.completed)
        }
        Gauge(label: Metric.cacheCases).record(cache.count)
        Gauge(label: Metric.cacheBytes).record(cache.bytes)
        commitToGroup(consumer)
        let assigned = positions.count
        Gauge(label: Metric.partitionsAssigned).record(assigned)
        health.update {
            $0.intakeBeat = now
            $0.lag = known ? total : -1
            $0.assignedPartitions = assigned
            if brokersOK && !$0.brokersOK {
                $0.brokersOK = true
                $0.brokersProblem = ""
            }
        }
    }

    /// Decodes, plans and commits one batch. On a database failure the error propagates and the
    /// batch is read again after reconnecting (offsets were not moved). A batch that the database
    /// refused for its data (`RefusedBatch`) is read again in isolation: see `isolate`.
    func apply(_ messages: [KafkaMessage]) throws {
        guard let writer, let committer else { return }
        let started = monotonicNanos()
        let decode = Self.decoder(for: config.topics)
        var items: [IntakeItem] = []
        items.reserveCapacity(messages.count)
        var cursor = positions
        for m in messages {
            // Apply only messages of partitions we own, at or after the stored position, each
            // once: a rebalance inside poll may hand back messages the database already has.
            let tp = m.topicPartition
            guard let position = cursor[tp], m.offset >= position else { continue }
            cursor[tp] = m.offset + 1
            let outcome = decode(m.topic, m.key, m.value)
            if case .event(let e) = outcome, e.eventTime > eventTime[tp] ?? .min { eventTime[tp] = e.eventTime }
            items.append(
                IntakeItem(
                    coordinates: SourceCoordinates(m.topicPartition, offset: m.offset),
                    key: m.key, value: m.value,
                    headers: m.headers.map { MessageHeader(name: $0.name, value: $0.value) }, outcome: outcome))
        }
        guard !items.isEmpty else { return }
        if !suspects.isEmpty {
            suspects = suspects.filter { tp, range in (positions[tp] ?? .min) < range.upperBound }
            if items.contains(where: {
                suspects[$0.coordinates.topicPartition]?
                    .contains($0.coordinates.offset) == true
            }) {
                try committer.drain()  // the writer is ours while nothing is in flight
                try isolate(items[...])
                return
            }
        }
        let batch = try plan(items, started: started)
        // Plan ahead: the cache and positions already include this batch; the commit thread
        // writes it while the next one is polled and planned.
        for n in batch.next { positions[n.topicPartition] = n.offset }
        try remember(batch.planner, clocks: batch.clocks)
        let job = try committer.submit { [self] in
            let begin = monotonicNanos()
            do {
                try writer.commit(batch.planner, clocks: batch.clocks, expected: batch.expected, next: batch.next)
            } catch let error as PostgresError where error.isCausedByData {
                throw RefusedBatch(error: error, ranges: batch.ranges)
            }
            committed(batch, started: started, commitBegan: begin)
        }
        groupSnapshots.append((job, positions))
        if !batch.heldTouched.isEmpty {
            heldInFlight.append(
                (job, Dictionary(uniqueKeysWithValues: batch.heldTouched.map { ($0, batch.planner.heldEvents(of: $0)) })))
        }
    }

    /// Waits for the commit thread if a job of `pending` not committed yet touches `cases`;
    /// forgets the jobs committed.
    static func wait(
        for pending: inout [(job: Int, cases: Set<String>)], touching cases: Set<String>,
        _ committer: BatchCommitter
    ) throws {
        guard !pending.isEmpty else { return }
        let done = committer.completed
        pending.removeAll { $0.job <= done }
        if pending.contains(where: { !$0.cases.isDisjoint(with: cases) }) {
            try committer.drain()
            pending = []
        }
    }

    /// Brings the cache up to what a plan writes (before its commit: a failed commit ends the session).
    /// `skipping`: cases not to cache (a firing page's cases read for that page only).
    func remember(_ planner: IntakePlanner, clocks: ClockChanges = ClockChanges(), skipping: Set<String> = []) throws {
        guard let committer else { throw IntakeNotConnected() }
        // What changes now is the job about to be submitted (only this thread submits).
        cache.job = committer.submitted + 1
        for id in planner.changedCases where skipping.isEmpty || !skipping.contains(id) {
            guard let state = planner.states[id] else { continue }
            cache[id].store(state)  // one pass through the cache's accessor, no copy of the entry
        }
        for a in planner.applied where a.event.source == .hotline12345 {
            cache[a.event.caseId]?.keys.insert(a.event.eventKey)
        }
        for h in planner.newlyHeld { heldCases.insert(h.event.caseId) }
        for (id, clock) in clocks.clocks where skipping.isEmpty || !skipping.contains(id) { cache[id]?.clock = clock }
        // Closed and withdrawn cases leave once committed; past the budget, the open ones too,
        // after the commit thread has caught up (misses are read from the database).
        cache.evictFinished(committedUpTo: committer.completed)
        if cache.isOverBudget {
            try committer.drain()
            cache.evictFinished(committedUpTo: committer.completed)
            if cache.isOverBudget {
                logger.notice(
                    "intake cache over its budget: open cases dropped",
                    metadata: ["cases": "\(cache.count)", "estimated_bytes": "\(cache.bytes)", "budget": "\(cache.budget)"])
                cache.shrink()
            }
        }
    }

    func record(_ planner: IntakePlanner, messages: Int) {
        counters.add("messages", messages)
        counters.add("applied", planner.applied.count)
        counters.add("duplicates", planner.duplicates)
        counters.add("held", planner.newlyHeld.count)
        counters.add("dead_letters", planner.deadLetters.count)
        counters.add("skipped", planner.skipped.count)
        counters.add("batches", messages > 0 ? 1 : 0)
        Metric.record(planner, topics: config.topics)
        for d in planner.deadLetters {
            logger.warning(
                "dead letter",
                metadata: [
                    "topic": "\(d.coordinates.topic)", "partition": "\(d.coordinates.partition)",
                    "offset": "\(d.coordinates.offset)", "reason": "\(d.reason)",
                ])
        }
        for s in planner.skipped {
            logger.notice(
                "skipped message",
                metadata: [
                    "topic": "\(s.coordinates.topic)", "partition": "\(s.coordinates.partition)",
                    "offset": "\(s.coordinates.offset)", "reason": "\(s.reason)",
                ])
        }
    }
}
