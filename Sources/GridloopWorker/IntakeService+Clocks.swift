import GridloopCore
import GridloopKafka
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
        var watermarks: [(topic: String, partition: Int32, watermark: Int64)] = []
        var byPartition: [TopicPartition: Int64] = [:]
        for (tp, position) in positions {
            let high = consumer.cachedWatermarks(tp).high
            let caughtUp = high >= 0 && (position >= high || (position < 0 && high == 0))
            let wm = caughtUp ? max(now, eventTime[tp] ?? .min) : (eventTime[tp] ?? .min)
            guard wm > .min else { continue }
            watermarks.append((tp.topic, tp.partition, wm))
            byPartition[tp] = wm
        }
        guard !watermarks.isEmpty else { return }
        try committer.drain()  // the due clocks must include what the last batches wrote
        for _ in 0..<50 {
            let due = try reader.dueClocks(watermarks: watermarks, limit: 2000)
            if due.isEmpty { return }
            let misses = Set(due.map(\.caseId)).filter { cache[$0] == nil }
            let ctx = try reader.context(caseIds: misses)
            let loaded = Dictionary(due.map { ($0.caseId, $0) }, uniquingKeysWith: { a, _ in a })
            for (id, state) in ctx.states {
                cache[id] = CachedCase(state: state, keys: ctx.appliedKeys[id] ?? [], clock: loaded[id])
            }
            var plan = IntakePlanner(states: [:], appliedKeys: [], held: [])
            var changes = ClockChanges()
            var touched: Set<TopicPartition> = []
            for clock in due {
                let tp = TopicPartition(topic: clock.topic, partition: clock.partition)
                guard let wm = byPartition[tp], let state = cache[clock.caseId]?.state else { continue }
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
            let decided = changes
            let fired = plan
            try committer.submit { [self] in
                try writer.commit(fired, clocks: decided, expected: fence, next: fence)
                record(decided)
                if !decided.decisions.isEmpty { onCommit() }
            }
            try committer.drain()
            if due.count < 2000 { return }
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
        return DecisionRecord(decision: d, level: level, topic: topic,
                              payload: OutboundEvent.json(d, state: state, deployment: config.deploymentName))
    }

    func record(_ changes: ClockChanges) {
        for r in changes.decisions {
            let d = r.decision
            counters.add("decisions", 1)
            var md: Logger.Metadata = ["case": "\(d.caseId)", "event": "\(d.typeName)", "level": "\(r.level.rawValue)", "id": "\(d.id)"]
            if case .escalated(_, let to, let reason, _, _) = d.kind {
                md["to_level"] = "\(to.rawValue)"
                md["reason"] = "\(reason)"
                counters.add("escalations", 1)
            }
            logger.info("decision", metadata: md)
        }
    }
}
