import GridloopCore
import GridloopKafka
import GridloopStore
import Logging

// The SLA clocks run on the intake thread: the holder of a partition is the only writer of its
// cases, so the clocks of a case move in the same transactions as its state (the batch that
// applied its events, or the firing of its due clocks), fenced by the same consumer offsets.
extension IntakeService {
    /// A planner for a batch or a pass over these cases: with the clocks when they run, and what
    /// has been learned about the unit directory.
    func makePlanner(
        states: [String: CaseState], appliedKeys: Set<String> = [], held: [HeldEvent] = [],
        clocks: [String: CaseClock] = [:]
    ) -> IntakePlanner {
        IntakePlanner(
            states: states, appliedKeys: appliedKeys, held: held, clocks: clocks,
            keeper: config.slaEnabled ? keeper : nil, learned: learned)
    }

    /// What the planner's clocks write with it: the clocks it moved, when each is due next, and
    /// the outbox records of its decisions (the COPY bodies are encoded later, by `prepare`).
    func clockChanges(_ planner: IntakePlanner) -> ClockChanges {
        var changes = ClockChanges()
        changes.clocks = planner.changedClocks
        for (id, clock) in planner.changedClocks { changes.due[id] = planner.nextDue(clock) }
        changes.decisions = planner.decisions.map(record)
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
            cursors.append(.init(tp, watermark: wm))
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
            for c in due { returned[c.topicPartition, default: 0] += 1 }
            cursors.removeAll { (returned[$0.topicPartition] ?? 0) < perPartition }
            let t1 = monotonicNanos()
            // Cases not cached are read for this round only and not kept: a burst of due clocks
            // must not fill the intake's cache.
            let misses = Set(due.map(\.caseId)).filter { cache[$0] == nil }
            let ctx = try reader.context(caseIds: misses, withKeys: false)
            let t2 = monotonicNanos()
            var plan = makePlanner(states: [:])
            var touched: Set<TopicPartition> = []
            for stored in due {
                let tp = stored.topicPartition
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
                plan.fire(clock, state: state, until: wm)
                touched.insert(tp)
            }
            var changes = clockChanges(plan)
            // Fence on the offsets: if another member took a partition over, nothing is written.
            let fence = touched.map { PartitionOffset($0, offset: positions[$0] ?? -2) }
            // Not cached: inserting each and removing it again cost a dozen hashings a case.
            try remember(plan, clocks: changes, skipping: misses)
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
    func record(_ taken: DecisionSnapshot) -> DecisionRecord {
        let d = taken.decision
        let topic: String
        switch OutboundEvent.stream(of: d) {
        case .escalations: topic = config.topics.escalations
        case .supervision: topic = config.topics.supervision
        case .outcomes: topic = config.topics.outcomes
        }
        var holder = taken.state.unitCode
        if case .escalated(_, _, _, _, _, let from, _) = d.kind { holder = from.unitCode }
        return DecisionRecord(
            decision: d, level: taken.level, unitCode: holder, topic: topic,
            payload: OutboundEvent.json(d, state: taken.state, deployment: config.deploymentName))
    }

    func record(_ changes: ClockChanges) {
        guard !changes.decisions.isEmpty else { return }
        let byKind = Metric.record(changes.decisions, now: wallClockMillis())
        // One line per round at info; one per decision at debug (a burst is 100,000s of them).
        logger.info("decisions taken", metadata: byKind.mapValues { "\($0)" })
        counters.add("decisions", changes.decisions.count)
        counters.add("escalations", changes.decisions.count { if case .escalated = $0.decision.kind { true } else { false } })
        warnUnresolved(changes.decisions)
        guard logger.logLevel <= .debug else { return }
        for r in changes.decisions {
            let d = r.decision
            var md: Logger.Metadata = [
                "case": "\(d.caseId)", "event": "\(d.typeName)", "level": "\(r.level.rawValue)", "id": "\(d.id)",
            ]
            if case .escalated(_, let to, let reason, _, _, _, let unit) = d.kind {
                md["to_level"] = "\(to.rawValue)"
                md["reason"] = "\(reason)"
                md["to_unit"] = "\(unit.unit.unitCode)"
                md["resolved_by"] = "\(unit.resolvedBy.rawValue)"
            }
            logger.debug("decision", metadata: md)
        }
    }

    /// A warning, once per missing code (not once per case), for each escalation that the
    /// directory file could not resolve: the unit was learned from the feeds, or the default
    /// unit took the case. The operator adds the code to the directory.
    private func warnUnresolved(_ decisions: [DecisionRecord]) {
        var found: [(UnresolvedCode, DecisionRecord)] = []
        for r in decisions {
            guard case .escalated(_, let to, _, _, _, _, let unit) = r.decision.kind, unit.resolvedBy != .directory else {
                continue
            }
            found.append((UnresolvedCode(level: to, key: unit.key, resolvedBy: unit.resolvedBy), r))
        }
        guard !found.isEmpty else { return }
        let new = unresolved.withLock { warned in found.filter { warned.insert($0.0).inserted } }
        for (code, r) in new {
            guard case .escalated(_, _, _, _, _, _, let unit) = r.decision.kind else { continue }
            logger.warning(
                "unit directory has no entry",
                metadata: [
                    "code": "\(code.key.map { "\($0)" } ?? "\(code.level.rawValue) (case without the code)")",
                    "resolved_by": "\(code.resolvedBy.rawValue)", "unit": "\(unit.unit.unitCode)",
                    "case": "\(r.decision.caseId)",
                ])
        }
    }
}
