import GridloopCore
import GridloopKafka
import GridloopStore
import Logging

// The SLA clocks run on the intake thread: the holder of a partition is the only writer of its
// cases, so the clocks of a case move in the same transactions as its state (the batch that
// applied its events, or the firing of its due clocks), fenced by the same consumer offsets.
extension IntakeSession {
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
        guard config.slaEnabled, !positions.isEmpty else { return }
        var pass = FiringPass(
            now: wallClockMillis(),
            partitions: positions.map { tp, position in
                FiringPass.Partition(tp, position: position, high: consumer.cachedWatermarks(tp).high, eventTime: eventTime[tp])
            })
        var cursors = pass.open.compactMap { tp in pass.watermarks[tp].map { IntakeStore.DueCursor(tp, watermark: $0) } }
        guard !cursors.isEmpty else { return }
        // No wait for the batches in flight: a cached case's clock is its newest (what a batch
        // in flight writes), and is used instead of the stored one; a clock that such a batch
        // made due is found by the next pass. Cases fired last pass and not cached are read
        // from the database, so that pass must have committed first.
        if committer.completed < lastFireJob { try committer.drain() }
        // Pages of about `FiringPass.pageClocks` clocks, each committed in its own transaction.
        // The next page is read and decided while the previous one commits: the cursors never
        // return a clock twice, and the pages hold different cases.
        while let perPartition = pass.perPartition {
            let t0 = monotonicNanos()
            let due = try reader.dueClocks(&cursors, perPartition: perPartition)
            var returned: [TopicPartition: Int] = [:]
            for c in due { returned[c.topicPartition, default: 0] += 1 }
            pass.read(returned: returned, asked: perPartition)
            cursors.removeAll { !pass.isOpen($0.topicPartition) }
            if due.isEmpty { break }
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
                guard let wm = pass.watermarks[tp], let state = cache[stored.caseId]?.state ?? ctx.states[stored.caseId] else {
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
            changes.prepare()  // the COPY bodies, here rather than on the commit thread
            let decided = changes
            let timings: Logger.Metadata = [
                "due": "\(due.count)", "decided": "\(decided.decisions.count)", "load_us": "\((t1 - t0) / 1000)",
                "cases_us": "\((t2 - t1) / 1000)", "decide_us": "\((monotonicNanos() - t2) / 1000)",
            ]
            // The cases read for this page only are not cached: inserting each and removing it
            // again cost a dozen hashings a case.
            lastFireJob = try submit(PlannedWrite(planner: plan, clocks: changes, fence: fence, uncached: misses)) {
                [self] t3 in
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
        if case .escalated(let e) = d.kind { holder = e.fromUnit.unitCode }
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
            if case .escalated(let e) = d.kind {
                md["to_level"] = "\(e.to.rawValue)"
                md["reason"] = "\(e.reason)"
                md["to_unit"] = "\(e.toUnit.unit.unitCode)"
                md["resolved_by"] = "\(e.toUnit.resolvedBy.rawValue)"
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
            guard case .escalated(let e) = r.decision.kind, e.toUnit.resolvedBy != .directory else { continue }
            found.append((UnresolvedCode(level: e.to, key: e.toUnit.key, resolvedBy: e.toUnit.resolvedBy), r))
        }
        guard !found.isEmpty else { return }
        let new = service.unresolved.withLock { warned in found.filter { warned.insert($0.0).inserted } }
        for (code, r) in new {
            guard case .escalated(let e) = r.decision.kind else { continue }
            let unit = e.toUnit
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
