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
