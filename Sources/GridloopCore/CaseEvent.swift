/// The hotline platform a case came from; its raw value is the prefix of the case id.
public enum CaseSource: String, Sendable, Codable, CaseIterable {
    case hotline12345 = "12345"
    case hotline12319 = "12319"
}

/// The four loops of the ladder (小区 → 社区 → 街道 → 区级), lowest first.
public enum LoopLevel: String, Sendable, Codable, CaseIterable, Comparable {
    case estate = "ESTATE"
    case community = "COMMUNITY"
    case street = "STREET"
    case district = "DISTRICT"

    /// Position on the ladder: 0 for the estate, 3 for the district.
    public var rank: Int {
        switch self {
        case .estate: 0
        case .community: 1
        case .street: 2
        case .district: 3
        }
    }

    /// The next level up, or nil at the district.
    public var next: LoopLevel? {
        rank < 3 ? LoopLevel.allCases[rank + 1] : nil
    }

    public static func < (lhs: LoopLevel, rhs: LoopLevel) -> Bool { lhs.rank < rhs.rank }
}

/// What happened to a work order, in the 12345 platform's terms (the 12319 events map onto these).
public enum CaseEventType: String, Sendable, Codable, CaseIterable {
    case dispatch = "DISPATCH"  // 派单/交办
    case redispatch = "REDISPATCH"  // 改派
    case sign = "SIGN"  // 签收
    case `return` = "RETURN"  // 退单
    case reply = "REPLY"  // 办结回复
    case extendApply = "EXTEND_APPLY"  // 申请延期
    case extendApprove = "EXTEND_APPROVE"  // 延期审批通过
    case extendReject = "EXTEND_REJECT"  // 延期驳回
    case suspend = "SUSPEND"  // 挂起
    case resume = "RESUME"  // 解挂
    case visit = "VISIT"  // 回访
    case reopen = "REOPEN"  // 重办
    case withdraw = "WITHDRAW"  // 撤单
}

public enum Urgency: String, Sendable, Codable, CaseIterable {
    case extraUrgent = "EXTRA_URGENT"
    case urgent = "URGENT"
    case normal = "NORMAL"
}

public enum ReplyResult: String, Sendable, Codable, CaseIterable {
    case resolved = "RESOLVED"
    case explained = "EXPLAINED"
    case unresolvable = "UNRESOLVABLE"
}

public enum Satisfaction: String, Sendable, Codable, CaseIterable {
    case satisfied = "SATISFIED"
    case basicallySatisfied = "BASICALLY_SATISFIED"
    case unsatisfied = "UNSATISFIED"
    case unreachable = "UNREACHABLE"
}

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

/// The fields of a new order that Gridloop keeps. Personal data (citizen name, phone,
/// appeal text, free-text address) is deliberately absent: the adapters drop it.
public struct OrderFacts: Sendable, Hashable, Codable {
    public var channel: String?  // 12345 channel; nil for 12319
    public var appealType: String?  // 12345 appealType; nil for 12319
    public var categoryCode: String?  // 12345 category.code; nil for 12319
    public var categoryName: String  // 12345 category.name or 12319 case_type
    public var urgency: Urgency
    public var acceptTime: Int64  // epoch milliseconds
    public var districtCode: String?
    public var streetCode: String?
    public var communityCode: String?
    public var gridCode: String?
    /// The platform's own sign limit in hours (12345 timeLimit.signHours).
    public var platformSignHours: Int?
    /// The platform's own handle limit in working days (12345 timeLimit.handleDays).
    public var platformHandleDays: Int?
    /// The platform's own deadline, epoch milliseconds (12319 limit_time).
    public var platformDeadline: Int64?
    public var repeatOf: String?

    public init(
        channel: String? = nil, appealType: String? = nil, categoryCode: String? = nil,
        categoryName: String, urgency: Urgency, acceptTime: Int64,
        districtCode: String? = nil, streetCode: String? = nil, communityCode: String? = nil,
        gridCode: String? = nil, platformSignHours: Int? = nil, platformHandleDays: Int? = nil,
        platformDeadline: Int64? = nil, repeatOf: String? = nil
    ) {
        self.channel = channel
        self.appealType = appealType
        self.categoryCode = categoryCode
        self.categoryName = categoryName
        self.urgency = urgency
        self.acceptTime = acceptTime
        self.districtCode = districtCode
        self.streetCode = streetCode
        self.communityCode = communityCode
        self.gridCode = gridCode
        self.platformSignHours = platformSignHours
        self.platformHandleDays = platformHandleDays
        self.platformDeadline = platformDeadline
        self.repeatOf = repeatOf
    }
}

/// One event of a case in canonical form, whichever platform sent it.
public struct CaseEvent: Sendable, Hashable, Codable {
    /// `<source>:<order number>`, e.g. `12345:HF261123000095` or `12319:12319-2026-000001`.
    public var caseId: String
    public var source: CaseSource
    public var orderNo: String
    public var type: CaseEventType
    /// When it happened, epoch milliseconds (12345 `order.time`/`acceptTime`, else `sendTime`; 12319 `event_time`).
    public var eventTime: Int64
    /// Identity of the event for deduplication: the 12345 `msgId`; for 12319 `<case_id>#<event_seq>`.
    public var eventKey: String
    /// The 12319 `event_seq`; nil for 12345.
    public var sequence: Int?
    /// DISPATCH only.
    public var order: OrderFacts?
    /// DISPATCH and REDISPATCH.
    public var assignee: Assignee?
    /// SIGN, RETURN, REPLY, EXTEND_APPLY (12345 only).
    public var unitCode: String?
    /// REPLY.
    public var result: ReplyResult?
    /// EXTEND_APPLY, EXTEND_APPROVE: working days.
    public var days: Int?
    /// VISIT.
    public var satisfaction: Satisfaction?

    public init(
        caseId: String, source: CaseSource, orderNo: String, type: CaseEventType,
        eventTime: Int64, eventKey: String, sequence: Int? = nil, order: OrderFacts? = nil,
        assignee: Assignee? = nil, unitCode: String? = nil, result: ReplyResult? = nil,
        days: Int? = nil, satisfaction: Satisfaction? = nil
    ) {
        self.caseId = caseId
        self.source = source
        self.orderNo = orderNo
        self.type = type
        self.eventTime = eventTime
        self.eventKey = eventKey
        self.sequence = sequence
        self.order = order
        self.assignee = assignee
        self.unitCode = unitCode
        self.result = result
        self.days = days
        self.satisfaction = satisfaction
    }

    public static func caseId(source: CaseSource, orderNo: String) -> String {
        "\(source.rawValue):\(orderNo)"
    }
}

/// What a feed adapter made of one raw Kafka message.
public enum FeedDecodeOutcome: Sendable, Hashable {
    /// A valid event to apply.
    case event(CaseEvent)
    /// Valid JSON of a message type Gridloop does not know: recorded and skipped (not an error of the message).
    case skipped(reason: String, orderNo: String?)
    /// Damaged: not JSON, wrong shape, missing or invalid field. The reason names the field and the problem.
    case rejected(reason: String)
}
