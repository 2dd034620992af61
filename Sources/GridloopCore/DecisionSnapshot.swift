/// A decision with the case as it stood at the decision's instant (event time), not at the
/// end of the batch or firing pass that took it: a replayed backlog and a live run give the same
/// snapshots for the same history. For an escalation the case is the one after it (at the new
/// level, with the receiving unit as its assignee); for a warning, overdue or urge it is the
/// case whose clock it is.
public struct DecisionSnapshot: Sendable, Hashable {
    public var decision: SLADecision
    /// The level of the clock concerned (for an escalation, the level the case left).
    public var level: LoopLevel
    public var state: CaseState
    public init(decision: SLADecision, level: LoopLevel, state: CaseState) {
        self.decision = decision
        self.level = level
        self.state = state
    }
}
