/// A case closed (resolved, or withdrawn): where it was resolved, with what result, after how
/// many escalations, how the citizen judged it, and when it was opened and closed (epoch ms).
public struct Resolution: Sendable, Hashable {
    /// The level that replied: the 721 report counts the case there.
    public var level: LoopLevel
    public var result: String
    public var escalations: Int
    public var satisfaction: Satisfaction?
    public var openedAt: Int64
    public var resolvedAt: Int64

    public init(
        level: LoopLevel, result: String, escalations: Int, satisfaction: Satisfaction?, openedAt: Int64,
        resolvedAt: Int64
    ) {
        self.level = level
        self.result = result
        self.escalations = escalations
        self.satisfaction = satisfaction
        self.openedAt = openedAt
        self.resolvedAt = resolvedAt
    }
}
