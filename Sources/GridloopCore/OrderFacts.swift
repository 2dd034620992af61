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
