/// Where a case stands in its life on the ladder.
public enum CaseStatus: String, Sendable, Codable, CaseIterable {
    case dispatched = "DISPATCHED"  // assigned at a level, not signed yet
    case signed = "SIGNED"  // 签收: the unit is handling it
    case returned = "RETURNED"  // 退单: back with the platform until REDISPATCH
    case replied = "REPLIED"  // 办结回复: handled, awaiting the callback
    case reopened = "REOPENED"  // 重办: handling again after an unsatisfied callback
    case closed = "CLOSED"  // callback done, case finished
    case withdrawn = "WITHDRAWN"  // 撤单: citizen withdrew
}

/// The current state of one case, as kept in the `cases` table. A value: applying an
/// event returns a new state; the store persists it.
public struct CaseState: Sendable, Hashable, Codable {
    public var caseId: String
    public var source: CaseSource
    public var orderNo: String
    public var status: CaseStatus
    public var level: LoopLevel
    public var unitCode: String
    public var unitName: String
    public var order: OrderFacts
    /// When the current assignment (DISPATCH, REDISPATCH) started, epoch ms.
    public var assignedAt: Int64
    public var signedAt: Int64?
    public var repliedAt: Int64?
    public var closedAt: Int64?
    /// Set while suspended (挂起): when the suspension started, epoch ms.
    public var suspendedSince: Int64?
    /// Working days granted by approved extensions, in total.
    public var extensionDays: Int
    /// The level at which the last REPLY was made (the 721 count), if any.
    public var repliedLevel: LoopLevel?
    public var lastResult: ReplyResult?
    public var lastSatisfaction: Satisfaction?
    /// Highest 12319 `event_seq` applied; 0 for 12345 cases.
    public var lastSequence: Int
    /// Number of events applied to this case.
    public var eventCount: Int
    /// Number of sequence gaps accepted after the hold period (12319).
    public var gapCount: Int
    /// Time of the last applied event, epoch ms.
    public var lastEventTime: Int64

    public init(
        caseId: String, source: CaseSource, orderNo: String, status: CaseStatus,
        level: LoopLevel, unitCode: String, unitName: String, order: OrderFacts,
        assignedAt: Int64, signedAt: Int64? = nil, repliedAt: Int64? = nil,
        closedAt: Int64? = nil, suspendedSince: Int64? = nil, extensionDays: Int = 0,
        repliedLevel: LoopLevel? = nil, lastResult: ReplyResult? = nil,
        lastSatisfaction: Satisfaction? = nil, lastSequence: Int = 0, eventCount: Int = 0,
        gapCount: Int = 0, lastEventTime: Int64
    ) {
        self.caseId = caseId
        self.source = source
        self.orderNo = orderNo
        self.status = status
        self.level = level
        self.unitCode = unitCode
        self.unitName = unitName
        self.order = order
        self.assignedAt = assignedAt
        self.signedAt = signedAt
        self.repliedAt = repliedAt
        self.closedAt = closedAt
        self.suspendedSince = suspendedSince
        self.extensionDays = extensionDays
        self.repliedLevel = repliedLevel
        self.lastResult = lastResult
        self.lastSatisfaction = lastSatisfaction
        self.lastSequence = lastSequence
        self.eventCount = eventCount
        self.gapCount = gapCount
        self.lastEventTime = lastEventTime
    }
}
