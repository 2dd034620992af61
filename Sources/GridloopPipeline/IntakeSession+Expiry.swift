import GridloopCore
import GridloopKafka
import GridloopStore

// Hold expiry, on the intake thread (see IntakeSession.swift): planned by the batch step like a
// batch, committed by the commit thread.
extension IntakeSession {
    /// Ends the hold of events that waited `holdWait` for what they need, on partitions the
    /// intake has caught up with: after a restart or an outage the backlog may still hold the
    /// missing event, so a partition with a backlog expires nothing yet. Planned here like a
    /// batch and committed by the commit thread, fenced on the partitions' offsets.
    func expireHeld(_ consumer: KafkaConsumer) throws {
        let owned = positions.compactMap { tp, position -> PartitionOffset? in
            let high = consumer.cachedWatermarks(tp).high
            guard high >= 0, position >= high || (position < 0 && high == 0) else { return nil }
            return PartitionOffset(tp, offset: 0)
        }
        guard !owned.isEmpty else { return }
        let cutoff = wallClockMillis() - Int64(config.holdSeconds) * 1000
        // Usually nothing has waited that long: ask the reader first, and wait for the commit
        // thread only when there is work (rows that batches in flight write were held just now).
        guard try reader.hasHeld(before: cutoff, partitions: owned) else { return }
        try committer.drain()  // nothing in flight: the reader sees every held row and case as written
        let held = try reader.expiredHeld(before: cutoff, partitions: owned)
        guard !held.events.isEmpty || !held.undecodable.isEmpty else { return }
        let expired = held.events
        let ids = Set(expired.map(\.event.caseId))
        let misses = ids.filter { cache[$0] == nil }
        let ctx = try reader.context(caseIds: misses)
        let stored = config.slaEnabled ? try reader.clocks(caseIds: Set(ctx.states.keys)) : [:]
        for (id, state) in ctx.states {
            cache[id] = CaseCache.Entry(state: state, keys: ctx.appliedKeys[id] ?? [], clock: stored[id])
        }
        var states: [String: CaseState] = [:]
        var clocks: [String: CaseClock] = [:]
        for id in ids {
            states[id] = cache[id]?.state
            clocks[id] = cache[id]?.clock
        }
        var plan = makePlanner(states: states, held: try reader.heldEvents(caseIds: ids), clocks: clocks)
        plan.expire(expired, holdSeconds: config.holdSeconds)
        // A row that no longer decodes would otherwise be found expired at every pass, each
        // draining the commit pipeline first, for ever: it becomes a dead letter, with the
        // decoder's reason, its bytes kept for a redrive by a version that reads them.
        for u in held.undecodable { plan.deadLetterHeldRow(eventKey: u.eventKey, u.letter) }
        var changes = clockChanges(plan)
        changes.prepare()
        learned = plan.learned
        // Fence on the offsets: if another member took a partition over, nothing is written.
        let fence = Set(
            (expired.map(\.coordinates) + held.undecodable.map(\.letter.coordinates)).map {
                $0.topicPartition
            }
        )
        .map { PartitionOffset($0, offset: positions[$0] ?? -2) }
        let expiry = plan
        let decided = changes
        let job = try submit(PlannedWrite(planner: plan, clocks: changes, fence: fence)) { [self] _ in
            record(expiry, messages: 0)
            record(decided)
            if !expiry.deadLetters.isEmpty || !decided.decisions.isEmpty { onCommit() }
        }
        heldInFlight.append((job, Dictionary(uniqueKeysWithValues: ids.map { ($0, plan.heldEvents(of: $0)) })))
    }
}
