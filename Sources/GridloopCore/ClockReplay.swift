/// One case's stored history replayed through the state machine and the clock keeper, in the
/// order the intake applied it, exactly as `IntakePlanner` moves the clocks (what fell due
/// before an event fires first), then time let pass to `until`: the decisions the ladder takes
/// for that history under `keeper`'s policy. Pure; `gridloopd whatif` runs it under two
/// policies (docs/WHATIF.md).
public enum ClockReplay {
    /// An applied event with what the intake knew beside it.
    public struct Step: Sendable {
        public var event: CaseEvent
        public var gapBefore: Int
        public var topic: String
        public var partition: Int32
        public init(event: CaseEvent, gapBefore: Int = 0, topic: String, partition: Int32) {
            self.event = event
            self.gapBefore = gapBefore
            self.topic = topic
            self.partition = partition
        }
    }

    public struct Outcome: Sendable {
        public var state: CaseState?
        public var clock: CaseClock?
        public var decisions: [DecisionSnapshot]
    }

    public static func run(
        _ steps: [Step], keeper: ClockKeeper, learned: LearnedUnits = LearnedUnits(), until: Int64
    ) -> Outcome {
        var state: CaseState?
        var clock: CaseClock?
        var decisions: [DecisionSnapshot] = []
        for step in steps {
            let event = step.event
            if let c = clock, let s = state {
                let r = keeper.fire(c, state: s, until: event.eventTime - 1, learned: learned)
                if !r.decisions.isEmpty {
                    clock = r.clock
                    state = r.state
                    decisions += r.decisions
                }
            }
            var next: CaseState
            if let s = state {
                next = s.applying(event, gapBefore: step.gapBefore)
            } else if let started = CaseState.start(from: event) {
                next = started
                if step.gapBefore > 0 { next.gapCount += 1 }
            } else {
                continue
            }
            let r = keeper.apply(
                event, to: clock, state: &next, topic: step.topic, partition: step.partition, learned: learned)
            if let c = r.clock {
                clock = c
                next.level = c.level
            }
            decisions += r.decisions
            state = next
        }
        if let c = clock, let s = state {
            let r = keeper.fire(c, state: s, until: until, learned: learned)
            clock = r.clock
            state = r.state
            decisions += r.decisions
        }
        return Outcome(state: state, clock: clock, decisions: decisions)
    }
}
