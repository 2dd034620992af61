import CoreMetrics
import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopSettings
import GridloopStore
import Logging
import Synchronization

// Threading: a session runs on the intake thread (`IntakeService.run()`), which owns the Kafka
// consumer, the read connection and everything below; the commit thread runs the jobs it
// submits on the write connection. librdkafka calls the rebalance handler from inside `poll` on
// the intake thread, so a rebalance never overlaps a batch: the batch before it is committed,
// and the next one starts from the offsets the database holds.

/// One connected session of the intake: its reader and writer (two connections), its commit
/// pipeline, its consumer, and all it knows about the partitions it holds. Built when a session
/// starts and dropped when it ends, so nothing is reset by hand: the next session starts again
/// from the database. The service (`IntakeService`) keeps only what outlives a session: the
/// configuration, the clock keeper in force, the offsets refused for their data, the counters.
///
/// Every planned write goes through `submit`: the cache and the positions take what it writes,
/// then the commit thread writes it. A batch of messages (`apply`), a page of due clocks
/// (`fireDue`), an expiry pass (`expireHeld`) and an isolated message (`isolate`, at once,
/// nothing in flight) are the four plans.
final class IntakeSession: @unchecked Sendable {
    // @unchecked: every mutable field below is touched only by the intake thread.
    unowned let service: IntakeService
    let config: GridloopConfig
    let logger: Logger
    let counters: IntakeCounters
    let health: Health
    let onCommit: @Sendable () -> Void

    /// Reads (cases not cached, offsets at assignment) on the intake thread's own connection.
    let reader: IntakeStore
    /// Writes, on a second connection, used by the commit thread (and by the intake thread only
    /// after `committer.drain()`).
    let writer: IntakeStore
    let committer: BatchCommitter
    /// The session's consumer: the rebalance handler (inside its poll) compares stored offsets
    /// with the log through it (IntakeSession+Gaps.swift).
    weak var consumer: KafkaConsumer?

    /// Stored next offset of each assigned partition, as this instance last read or wrote it.
    var positions: [TopicPartition: Int64] = [:]
    /// Latest event time consumed on each assigned partition: how far event time has got there.
    var eventTime: [TopicPartition: Int64] = [:]
    /// Write-through cache of the cases of the partitions this instance holds, with the 12345
    /// message ids applied to each. Valid because only the holder of a partition writes its
    /// cases; emptied at every rebalance; bounded by `intake.cacheMemory`.
    var cache: CaseCache
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
    /// What the feeds taught about the unit directory (`learned_units`): read at the session's
    /// start and every minute (other instances learn too), and extended by each batch planned.
    var learned: LearnedUnits
    private var lastLearnedRefresh = monotonicNanos()
    /// Assigned partitions left unread for a gap not acknowledged yet (intake.onOffsetGap: stop).
    var gapStopped: Set<TopicPartition> = []
    /// When the intake last asked whether the gaps of `gapStopped` were acknowledged (monotonic ns).
    var lastGapCheck: UInt64 = 0
    /// When this instance last joined the group or gave partitions up (monotonic ns).
    var groupWaitStart = monotonicNanos()
    private var lastObserved: UInt64 = 0
    private var lastBrokerProbe: UInt64 = 0
    private var lastIdleSweep: UInt64 = 0

    init(service: IntakeService, reader: IntakeStore, writer: IntakeStore, committer: BatchCommitter, learned: LearnedUnits) {
        self.service = service
        self.config = service.config
        self.logger = service.logger
        self.counters = service.counters
        self.health = service.health
        self.onCommit = service.onCommit
        self.reader = reader
        self.writer = writer
        self.committer = committer
        self.cache = CaseCache(budget: service.config.cacheMemoryBytes)
        self.learned = learned
    }

    /// The clock keeper in force (a reload replaces it between batches).
    var keeper: ClockKeeper { service.keeper }

    /// Polls and applies until `stop` is set or something fails (the error ends the session).
    func run(_ consumer: KafkaConsumer, until stop: StopSignal) throws {
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
                learned.merge(try LearnedUnitQueries.all(from: reader.connection))
                lastLearnedRefresh = monotonicNanos()
            }
            observe(consumer)
        }
    }

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
        if now - lastIdleSweep > 60_000_000_000 {
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
        let started = monotonicNanos()
        let decode = IntakeService.decoder(for: config.topics)
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
        if !service.suspects.isEmpty {
            let suspects = service.suspects.filter { tp, range in (positions[tp] ?? .min) < range.upperBound }
            service.suspects = suspects
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
        let job = try submit(
            PlannedWrite(
                planner: batch.planner, clocks: batch.clocks, fence: batch.expected, next: batch.next, ranges: batch.ranges)
        ) { [self] began in committed(batch, started: started, commitBegan: began) }
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
