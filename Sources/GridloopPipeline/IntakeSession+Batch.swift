import CoreMetrics
import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopStore
import Logging

// Planning a batch and what follows its commit, on the intake thread (see IntakeSession.swift).
extension IntakeSession {
    /// A batch planned and ready to commit.
    struct PlannedBatch: Sendable {
        var planner: IntakePlanner
        var clocks: ClockChanges
        var expected: [PartitionOffset]
        var next: [PartitionOffset]
        /// Per partition, the offsets the batch covers (from its first message to the next offset).
        var ranges: [TopicPartition: Range<Int64>]
        /// Cases whose held rows the batch writes or deletes.
        var heldTouched: Set<String>
        var messages: Int
        var timings: Logger.Metadata
    }

    /// Loads what the items need (cases not cached, held events) and plans them, clocks included.
    /// Changes nothing of the service's state but the cache of stored cases read.
    func plan(_ items: [IntakeItem], started: UInt64) throws -> PlannedBatch {
        var caseIds: Set<String> = []
        for item in items { if case .event(let e) = item.outcome { caseIds.insert(e.caseId) } }
        let decoded = monotonicNanos()
        let now = wallClockMillis()
        let misses = caseIds.filter { cache[$0] == nil }
        try Self.wait(for: &firedUncached, touching: misses, committer)
        // A case not in the cache is not in any batch still being committed, so the reader sees its latest state.
        let ctx = try reader.context(caseIds: misses)
        let stored = try reader.clocks(caseIds: Set(ctx.states.keys))
        for (id, state) in ctx.states {
            cache[id] = CaseCache.Entry(state: state, keys: ctx.appliedKeys[id] ?? [], clock: stored[id])
        }
        var states: [String: CaseState] = [:]
        states.reserveCapacity(caseIds.count)
        var applied: Set<String> = []
        for id in caseIds {
            guard let c = cache[id] else { continue }
            states[id] = c.state
        }
        for item in items {
            if case .event(let e) = item.outcome, e.source == .hotline12345, cache[e.caseId]?.keys.contains(e.eventKey) == true {
                applied.insert(e.eventKey)
            }
        }
        let heldHere = caseIds.intersection(heldCases)
        var held: [HeldEvent] = []
        if !heldHere.isEmpty {
            // A case whose held rows a batch in flight writes or deletes: its held events as they
            // are after that batch (the latest such batch wins). The others: as stored.
            let done = committer.completed
            heldInFlight.removeAll { $0.job <= done }
            var pending: [String: [HeldEvent]] = [:]
            for batch in heldInFlight {
                for (id, events) in batch.held where heldHere.contains(id) { pending[id] = events }
            }
            for events in pending.values { held += events }
            let stored = heldHere.subtracting(pending.keys)
            if !stored.isEmpty { held += try reader.heldEvents(caseIds: stored) }
        }
        let loaded = monotonicNanos()
        var clocks: [String: CaseClock] = [:]
        if config.slaEnabled {
            for id in caseIds { if let c = cache[id]?.clock { clocks[id] = c } }
        }
        var planner = makePlanner(states: states, appliedKeys: applied, held: held, clocks: clocks)
        for item in items { planner.offer(item, now: now) }
        var changed = clockChanges(planner)
        changed.prepare()  // the COPY bodies, here rather than on the commit thread
        learned = planner.learned
        let planned = monotonicNanos()
        let next = IntakePlanner.nextOffsets(items).map {
            PartitionOffset($0.topicPartition, offset: $0.offset)
        }
        let expected = next.map { PartitionOffset($0.topicPartition, offset: positions[$0.topicPartition] ?? -2) }
        var first: [TopicPartition: Int64] = [:]
        for item in items {
            let tp = item.coordinates.topicPartition
            if first[tp] == nil { first[tp] = item.coordinates.offset }
        }
        var ranges: [TopicPartition: Range<Int64>] = [:]
        for n in next {
            let tp = n.topicPartition
            let from = first[tp] ?? n.offset
            ranges[tp] = from..<max(from, n.offset)
        }
        let timings: Logger.Metadata = [
            "messages": "\(items.count)", "applied": "\(planner.applied.count)",
            "decode_us": "\((decoded - started) / 1000)", "load_us": "\((loaded - decoded) / 1000)",
            "plan_us": "\((planned - loaded) / 1000)",
        ]
        return PlannedBatch(
            planner: planner, clocks: changed, expected: expected, next: next, ranges: ranges,
            heldTouched: heldHere.union(planner.newlyHeld.map(\.event.caseId)),
            messages: items.count, timings: timings)
    }

    /// After a batch's commit (on the commit thread, or on the intake thread in isolation):
    /// metrics, counters, log, and a wake-up for the relay.
    func committed(_ batch: PlannedBatch, started: UInt64, commitBegan: UInt64) {
        Recorder(label: Metric.batchMessages, aggregate: true).record(batch.messages)
        Timer(label: Metric.batchSeconds).recordNanoseconds(Int64(monotonicNanos() - started))
        record(batch.planner, messages: batch.messages)
        record(batch.clocks)
        if !batch.planner.deadLetters.isEmpty || !batch.clocks.decisions.isEmpty { onCommit() }
        if logger.logLevel <= .debug {
            var md = batch.timings
            md["commit_us"] = "\((monotonicNanos() - commitBegan) / 1000)"
            for (k, v) in writer.lastWriteTimings { md[k] = "\(v)" }
            logger.debug("batch committed", metadata: md)
        }
    }
}
