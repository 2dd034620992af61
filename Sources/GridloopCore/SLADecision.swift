/// A decision the ladder took, to be published (see `docs/EVENTS.md`).
public struct SLADecision: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case warning(limit: ClockKind, deadline: Int64, usedShare: Double)
        case overdue(limit: ClockKind, deadline: Int64)
        case urge(limit: ClockKind, deadline: Int64, count: Int)
        case escalated(Escalation)
        case resolved(Resolution)
    }
    /// Deterministic: the same decision always has the same id.
    public var id: String
    public var caseId: String
    /// When the decision took effect (event time).
    public var time: Int64
    public var kind: Kind

    public var typeName: String {
        switch kind {
        case .warning: "gridloop.case.supervision.warning"
        case .overdue: "gridloop.case.supervision.overdue"
        case .urge: "gridloop.case.supervision.urge"
        case .escalated: "gridloop.case.escalated"
        case .resolved: "gridloop.case.resolved"
        }
    }
}
