/// A case moved one level up the ladder: `fromUnit` held it at `from`; `toUnit` takes it at
/// `to`, and how it was found.
public struct Escalation: Sendable, Hashable {
    public var from: LoopLevel
    public var to: LoopLevel
    /// SIGN_OVERDUE, HANDLE_OVERDUE or REOPENED_UNSATISFIED.
    public var reason: String
    /// The deadline missed (epoch ms); nil for a reopening.
    public var deadline: Int64?
    /// The case's escalations so far, this one included.
    public var count: Int
    public var fromUnit: UnitRef
    public var toUnit: UnitResolution

    public init(
        from: LoopLevel, to: LoopLevel, reason: String, deadline: Int64?, count: Int, fromUnit: UnitRef,
        toUnit: UnitResolution
    ) {
        self.from = from
        self.to = to
        self.reason = reason
        self.deadline = deadline
        self.count = count
        self.fromUnit = fromUnit
        self.toUnit = toUnit
    }
}
