import GridloopCore
import GridloopKafka
import GridloopStore
import Logging

// The SLA clocks run on the intake thread: the holder of a partition is the only writer of its
// cases, so the clocks of a case move in the same transactions as its state (the batch that
// applied its events, or the firing of its due clocks), fenced by the same consumer offsets.
extension IntakeService {
    /// Moves the clocks of the cases whose events the planner applied, in applied order; may
    /// change a case's state (an unsatisfied callback reopening it one level up).
    func runClocks(_ planner: inout IntakePlanner) -> ClockChanges {
        var changes = ClockChanges()
        guard config.slaEnabled, !planner.applied.isEmpty else { return changes }
        let batch = keeper.run(planner.applied, initial: planner.initialStates) { id in
            cache[id]?.clock ?? preloadedClocks[id]
        }
        for (id, state) in batch.states where planner.states[id] != state { planner.replaceState(state) }
        changes.clocks = batch.clocks
        for (id, clock) in batch.clocks { changes.due[id] = keeper.nextDue(clock) }
        changes.decisions = batch.decisions.map { record($0.decision, level: $0.level, state: $0.state) }
        return changes
    }

    /// Fires the clocks that are due on the partitions this instance holds. Time, per
    /// partition, is event time: the latest event consumed there, or the wall clock once the
    /// intake has caught up with it. So a backlog replay escalates exactly the cases that
    /// really missed their limits: a SIGN in the backlog stops the clock before its deadline.
    func fireDue(_ consumer: KafkaConsumer) throws {
        guard config.slaEnabled, let reader, let writer, let committer, !positions.isEmpty else { return }
        let now = wallClockMillis()
        var cursors: [IntakeStore.DueCursor] = []
        var byPartition: [TopicPartition: Int64] = [:]
        for (tp, position) in positions {
            let high = consumer.cachedWatermarks(tp).high
            let caughtUp = high >= 0 && (position >= high || (position < 0 && high == 0))
            let wm = caughtUp ? max(now, eventTime[tp] ?? .min) : (eventTime[tp] ?? .min)
            guard wm > .min else { continue }
            cursors.append(.init(topic: tp.topic, partition: tp.partition, watermark: wm))
            byPartition[tp] = wm
        }
        guard !cursors.isEmpty else { return }
        // No wait for the batches in flight: a cached case's clock is its newest (what a batch
        // in flight writes), and is used instead of the stored one; a clock that such a batch
        // made due is found by the next pass. Cases fired last pass and not cached are read
        // from the database, so that pass must have committed first.
        if committer.completed < lastFireJob { try committer.drain() }
        // Pages of about `roundSize` clocks, each committed in its own transaction. The next
        // page is read and decided while the previous one commits: the cursors never return a
        // clock twice, and the pages hold different cases.
        let roundSize = 2000
        for _ in 0..<50 {
            let perPartition = max(50, roundSize / cursors.count)
            let t0 = monotonicNanos()
            let due = try reader.dueClocks(&cursors, perPartition: perPartition)
            if due.isEmpty { break }
            // A partition that gave fewer than it was asked for has nothing more due.
            var returned: [TopicPartition: Int] = [:]
            for c in due { returned[TopicPartition(topic: c.topic, partition: c.partition), default: 0] += 1 }
            cursors.removeAll { (returned[TopicPartition(topic: $0.topic, partition: $0.partition)] ?? 0) < perPartition }
            let t1 = monotonicNanos()
            // Cases not cached are read for this round only and not kept: a burst of due clocks
            // must not fill the intake's cache.
            let misses = Set(due.map(\.caseId)).filter { cache[$0] == nil }
            let ctx = try reader.context(caseIds: misses, withKeys: false)
            let t2 = monotonicNanos()
            var plan = IntakePlanner(states: [:], appliedKeys: [], held: [])
            var changes = ClockChanges()
            var touched: Set<TopicPartition> = []
            for stored in due {
                let tp = TopicPartition(topic: stored.topic, partition: stored.partition)
                guard let wm = byPartition[tp], let state = cache[stored.caseId]?.state ?? ctx.states[stored.caseId] else {
                    continue
                }
                // A cached clock differs from the stored one while the batch that moved it
                // commits: that batch stores when it is due next; fire it now only if it is due.
                var clock = stored
                if let cached = cache[stored.caseId]?.clock, cached != stored {
                    guard let at = keeper.nextDue(cached), at <= wm else { continue }
                    clock = cached
                }
                let (after, newState, decisions) = keeper.fire(clock, state: state, until: wm)
                changes.clocks[clock.caseId] = after
                changes.due[clock.caseId] = keeper.nextDue(after)
                var level = clock.level
                for d in decisions {
                    changes.decisions.append(record(d, level: level, state: newState))
                    if case .escalated(_, let to, _, _, _) = d.kind { level = to }
                }
                if newState != state { plan.replaceState(newState) }
                touched.insert(tp)
            }
            // Fence on the offsets: if another member took a partition over, nothing is written.
            let fence = touched.map { PartitionOffset(topic: $0.topic, partition: $0.partition, offset: positions[$0] ?? -2) }
            try remember(plan, clocks: changes)
            for id in misses { cache[id] = nil }
            changes.prepare()  // the COPY bodies, here rather than on the commit thread
            let decided = changes
            let fired = plan
            let timings: Logger.Metadata = [
                "due": "\(due.count)", "decided": "\(decided.decisions.count)", "load_us": "\((t1 - t0) / 1000)",
                "cases_us": "\((t2 - t1) / 1000)", "decide_us": "\((monotonicNanos() - t2) / 1000)",
            ]
            lastFireJob = try committer.submit { [self] in
                let t3 = monotonicNanos()
                try writer.commit(fired, clocks: decided, expected: fence, next: fence)
                record(decided)
                if !decided.decisions.isEmpty { onCommit() }
                if logger.logLevel <= .debug {
                    var md = timings
                    md["commit_us"] = "\((monotonicNanos() - t3) / 1000)"
                    for (k, v) in writer.lastWriteTimings { md[k] = "\(v)" }
                    logger.debug("fired due clocks", metadata: md)
                }
            }
            if !misses.isEmpty { firedUncached.append((lastFireJob, misses)) }
            if cursors.isEmpty { break }
        }
    }

    /// The outbox record of a decision: the CloudEvents message, on its topic.
    func record(_ d: SLADecision, level: LoopLevel, state: CaseState) -> DecisionRecord {
        let topic: String
        switch OutboundEvent.stream(of: d) {
        case .escalations: topic = config.topics.escalations
        case .supervision: topic = config.topics.supervision
        case .outcomes: topic = config.topics.outcomes
        }
        return DecisionRecord(
            decision: d, level: level, topic: topic,
            payload: OutboundEvent.json(d, state: state, deployment: config.deploymentName))
    }

    func record(_ changes: ClockChanges) {
        guard !changes.decisions.isEmpty else { return }
        let byKind = Metric.record(changes.decisions, now: wallClockMillis())
        // One line per round at info; one per decision at debug (a burst is 100,000s of them).
        logger.info("decisions taken", metadata: byKind.mapValues { "\($0)" })
        counters.add("decisions", changes.decisions.count)
        counters.add("escalations", changes.decisions.count { if case .escalated = $0.decision.kind { true } else { false } })
        guard logger.logLevel <= .debug else { return }
        for r in changes.decisions {
            let d = r.decision
            var md: Logger.Metadata = [
                "case": "\(d.caseId)", "event": "\(d.typeName)", "level": "\(r.level.rawValue)", "id": "\(d.id)",
            ]
            if case .escalated(_, let to, let reason, _, _) = d.kind {
                md["to_level"] = "\(to.rawValue)"
                md["reason"] = "\(reason)"
            }
            logger.debug("decision", metadata: md)
        }
    }
}
