/// What the clocks make of a batch of applied events.
public struct ClockBatch: Sendable {
    /// The state of every case the batch touched after it, clock decisions included.
    public var states: [String: CaseState] = [:]
    public var clocks: [String: CaseClock] = [:]
    /// Each decision, with the case's level when it was taken and the case after it.
    public var decisions: [(decision: SLADecision, level: LoopLevel, state: CaseState)] = []
}

extension ClockKeeper {
    /// Replays a batch's applied events case by case, in order, from the states before the
    /// batch, firing whatever fell due before each event. So a backlog decides exactly as the
    /// live feed would have: a SIGN stops the clock only if it came before the deadline.
    public func run(_ applied: [AppliedEvent], initial: [String: CaseState], clock known: (String) -> CaseClock?) -> ClockBatch {
        var out = ClockBatch()
        for a in applied {
            let e = a.event
            let id = e.caseId
            var state = out.states[id] ?? initial[id]
            var clock = out.clocks[id] ?? known(id)
            if let c = clock, let s = state {
                let r = fire(c, state: s, until: e.eventTime - 1)
                clock = r.clock
                state = r.state
                collect(r.decisions, from: c.level, state: r.state, into: &out)
            }
            // As the planner applies it (`IntakePlanner.apply`).
            var next: CaseState
            if let state {
                next = state.applying(e, gapBefore: a.gapBefore)
            } else if let started = CaseState.start(from: e) {
                next = a.gapBefore > 0 ? started.withGap(a.gapBefore) : started
            } else {
                continue
            }
            let levelBefore = clock?.level ?? next.level
            let r = apply(e, to: clock, state: &next, topic: a.coordinates.topic, partition: a.coordinates.partition)
            if let c = r.clock {
                out.clocks[id] = c
                next.level = c.level
            }
            collect(r.decisions, from: levelBefore, state: next, into: &out)
            out.states[id] = next
        }
        return out
    }

    private func collect(_ decisions: [SLADecision], from level: LoopLevel, state: CaseState, into out: inout ClockBatch) {
        var level = level
        for d in decisions {
            out.decisions.append((d, level, state))
            if case .escalated(_, let to, _, _, _) = d.kind { level = to }
        }
    }
}
