/// The unit an order is assigned to.
public struct Assignee: Sendable, Hashable, Codable {
    public var unitCode: String
    public var unitName: String
    public var level: LoopLevel
    public init(unitCode: String, unitName: String, level: LoopLevel) {
        self.unitCode = unitCode
        self.unitName = unitName
        self.level = level
    }
}
