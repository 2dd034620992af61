import GridloopCore
import GridloopPostgres

/// The state a batch needs before planning: stored cases, already-applied event keys, held events.
public struct IntakeContext: Sendable {
    public var states: [String: CaseState]
    /// 12345 message ids already applied, per case.
    public var appliedKeys: [String: Set<String>]
    public var held: [HeldEvent]
}
