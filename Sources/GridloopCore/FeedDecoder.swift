/// The adapters of the two platforms' feeds: raw Kafka message in, canonical `CaseEvent` (or a
/// skip, or a rejection with a reason) out. Personal data (names, phones, appeal text,
/// addresses, free-text remarks) is read past and never copied.
public enum FeedDecoder {
    /// The 12345 work-order feed (`docs/FEEDS.md`).
    public static func decode12345(key: [UInt8]?, value: [UInt8]) -> FeedDecodeOutcome {
        do throws(FeedRejection) {
            let root = try parseObject(value)
            return safe(try decode12345(root, key: key))
        } catch {
            return .rejected(reason: SafeText.text(error.reason))
        }
    }

    /// The 12319 case feed (`docs/FEEDS.md`).
    public static func decode12319(key: [UInt8]?, value: [UInt8]) -> FeedDecodeOutcome {
        do throws(FeedRejection) {
            let root = try parseObject(value)
            return safe(try decode12319(root, key: key))
        } catch {
            return .rejected(reason: SafeText.text(error.reason))
        }
    }

    /// Reasons go to `text` columns, Kafka headers and log lines: the last guard that whatever
    /// they quote is valid, bounded and free of control characters.
    private static func safe(_ outcome: FeedDecodeOutcome) -> FeedDecodeOutcome {
        if case .skipped(let reason, let orderNo) = outcome { return .skipped(reason: SafeText.text(reason), orderNo: orderNo) }
        return outcome
    }

    static func parseObject(_ value: [UInt8]) throws(FeedRejection) -> FeedFields {
        guard !value.isEmpty else { throw FeedRejection(reason: "empty message") }
        guard value.count <= FeedLimits.messageBytes else {
            throw FeedRejection(
                reason: "message of \(value.count) bytes, more than the \(FeedLimits.messageBytes) a feed message may have")
        }
        if value.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            throw FeedRejection(reason: "empty message (only whitespace)")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(value)
        } catch {
            throw FeedRejection(reason: "not valid JSON: \(error)")
        }
        guard case .object(let o) = json else {
            throw FeedRejection(reason: "top-level value is \(json.typeName), expected an object")
        }
        return FeedFields(o)
    }

    /// The key must be the id's bytes: the platforms key by it, so that all messages of a case
    /// reach one partition, whose owner alone writes the case. A message without a key lands on
    /// any partition and could be applied by another daemon concurrently.
    /// Bytes are compared, not `String`s (which would equate invalid UTF-8 with U+FFFD, and
    /// canonically equivalent spellings).
    static func checkKey(_ key: [UInt8]?, matches id: String, field: String) throws(FeedRejection) {
        guard let key, !key.isEmpty else {
            throw FeedRejection(reason: "message has no key (the platform keys every message by its \(field))")
        }
        guard key.elementsEqual(id.utf8) else {
            let k = SafeText.text(key, maxLength: FeedLimits.quoted)
            throw FeedRejection(reason: "message key '\(k)' does not match \(field) '\(FeedFields.quote(id))'")
        }
    }

    // MARK: 12345

    static let types12345: [String: CaseEventType] = Dictionary(
        uniqueKeysWithValues: CaseEventType.allCases.map { ($0.rawValue, $0) })

    static func decode12345(_ root: FeedFields, key: [UInt8]?) throws(FeedRejection) -> FeedDecodeOutcome {
        let msgId = try root.nonEmptyText("msgId", maxLength: FeedLimits.code)
        let msgType = try root.nonEmptyText("msgType", maxLength: FeedLimits.code)
        _ = try root.rfc3339("sendTime")
        let order = try root.object("order")
        let orderNo = try order.nonEmptyText("orderNo", maxLength: FeedLimits.orderNumber)
        try checkKey(key, matches: orderNo, field: "order.orderNo")
        guard let type = types12345[msgType] else {
            return .skipped(reason: "unknown msgType '\(FeedFields.quote(msgType))'", orderNo: orderNo)
        }
        var e = CaseEvent(
            caseId: CaseEvent.caseId(source: .hotline12345, orderNo: orderNo), source: .hotline12345,
            orderNo: orderNo, type: type, eventTime: 0, eventKey: msgId)
        switch type {
        case .dispatch:
            let accept = try order.rfc3339("acceptTime")
            e.eventTime = accept
            let channel = try order.oneOf("channel", ["PHONE", "WECHAT", "APP", "WEB", "QRCODE"])
            let appeal = try order.oneOf("appealType", ["CONSULT", "HELP", "COMPLAINT", "REPORT", "SUGGESTION", "PRAISE"])
            let category = try order.object("category")
            let code = try category.nonEmptyText("code", maxLength: FeedLimits.code)
            let name = try category.text("name", maxLength: FeedLimits.name)
            let urgency = try order.enumeration("urgency", Urgency.self)
            _ = try order.string("content", maxLength: FeedLimits.content)
            _ = try order.object("citizen")
            let location = try order.object("location")
            _ = try location.string("address")
            let limit = try order.optionalObject("timeLimit")
            e.order = OrderFacts(
                channel: channel, appealType: appeal, categoryCode: code, categoryName: name, urgency: urgency,
                acceptTime: accept, districtCode: try location.optionalText("districtCode", maxLength: FeedLimits.code),
                streetCode: try location.optionalText("streetCode", maxLength: FeedLimits.code),
                communityCode: try location.optionalText("communityCode", maxLength: FeedLimits.code),
                gridCode: try location.optionalText("gridCode", maxLength: FeedLimits.code),
                platformSignHours: try limit?.optionalInt("signHours", min: 0),
                platformHandleDays: try limit?.optionalInt("handleDays", min: 0),
                repeatOf: try order.optionalText("repeatOf", maxLength: FeedLimits.code))
            e.assignee = try assignee12345(order.object("assignee"))
        case .redispatch:
            e.eventTime = try order.rfc3339("time")
            e.assignee = try assignee12345(order.object("assignee"))
        case .sign, .return:
            e.eventTime = try order.rfc3339("time")
            e.unitCode = try order.nonEmptyText("unitCode", maxLength: FeedLimits.code)
        case .reply:
            e.eventTime = try order.rfc3339("time")
            e.unitCode = try order.nonEmptyText("unitCode", maxLength: FeedLimits.code)
            e.result = try order.enumeration("result", ReplyResult.self)
        case .extendApply:
            e.eventTime = try order.rfc3339("time")
            e.unitCode = try order.nonEmptyText("unitCode", maxLength: FeedLimits.code)
            e.days = try order.int("days", min: 1)
        case .extendApprove:
            e.eventTime = try order.rfc3339("time")
            e.days = try order.int("days", min: 1)
        case .visit:
            e.eventTime = try order.rfc3339("time")
            e.satisfaction = try order.enumeration("satisfaction", Satisfaction.self)
        case .extendReject, .suspend, .resume, .reopen, .withdraw:
            e.eventTime = try order.rfc3339("time")
        }
        return .event(e)
    }

    static func assignee12345(_ a: FeedFields) throws(FeedRejection) -> Assignee {
        Assignee(
            unitCode: try a.nonEmptyText("unitCode", maxLength: FeedLimits.code),
            unitName: try a.text("unitName", maxLength: FeedLimits.name),
            level: try a.enumeration("level", LoopLevel.self))
    }

    // MARK: 12319

    static let events12319: [String: CaseEventType] = [
        "new": .dispatch, "transfer": .redispatch, "accept": .sign, "back": .return, "finish": .reply,
        "delay": .extendApprove, "hang": .suspend, "unhang": .resume, "feedback": .visit, "redo": .reopen,
        "cancel": .withdraw,
    ]
    static let tiers: [String: LoopLevel] = ["小区": .estate, "社区": .community, "街道": .street, "区级": .district]
    static let satisfactions: [String: Satisfaction] = [
        "满意": .satisfied, "基本满意": .basicallySatisfied, "不满意": .unsatisfied, "未接通": .unreachable,
    ]

    static func decode12319(_ root: FeedFields, key: [UInt8]?) throws(FeedRejection) -> FeedDecodeOutcome {
        let caseNo = try root.nonEmptyText("case_id", maxLength: FeedLimits.orderNumber)
        let event = try root.nonEmptyText("event", maxLength: FeedLimits.code)
        let seq = try root.int("event_seq", min: 1)
        let time = try root.localTime("event_time")
        try checkKey(key, matches: caseNo, field: "case_id")
        guard let type = events12319[event] else {
            return .skipped(reason: "unknown event '\(FeedFields.quote(event))'", orderNo: caseNo)
        }
        var e = CaseEvent(
            caseId: CaseEvent.caseId(source: .hotline12319, orderNo: caseNo), source: .hotline12319,
            orderNo: caseNo, type: type, eventTime: time, eventKey: "\(caseNo)#\(seq)", sequence: seq)
        switch type {
        case .dispatch:
            let level = try root.int("level", min: 1)
            let urgency: Urgency
            switch level {
            case 1: urgency = .extraUrgent
            case 2: urgency = .urgent
            case 3: urgency = .normal
            default: throw FeedRejection(reason: "field level: expected 1, 2 or 3")
            }
            let caseType = try root.nonEmptyText("case_type", maxLength: FeedLimits.name)
            for personal in ["content", "caller_name", "caller_tel", "addr"] { _ = try root.string(personal) }
            e.order = OrderFacts(
                categoryName: caseType, urgency: urgency, acceptTime: time,
                districtCode: try root.text("district", maxLength: FeedLimits.code),
                streetCode: try root.text("street", maxLength: FeedLimits.code),
                communityCode: try root.text("community", maxLength: FeedLimits.code),
                gridCode: try root.text("grid_no", maxLength: FeedLimits.code),
                platformDeadline: try root.optionalLocalTime("limit_time"))
            e.assignee = try assignee12319(root)
        case .redispatch:
            e.assignee = try assignee12319(root)
        case .reply:
            e.result = .resolved
        case .extendApprove:
            e.days = try root.int("delay_days", min: 1)
        case .visit:
            let s = try root.string("satisfaction")
            guard let sat = satisfactions[s] else {
                throw FeedRejection(reason: "field satisfaction: '\(FeedFields.quote(s))' is not one of 满意, 基本满意, 不满意, 未接通")
            }
            e.satisfaction = sat
        default:
            break
        }
        return .event(e)
    }

    static func assignee12319(_ root: FeedFields) throws(FeedRejection) -> Assignee {
        let tier = try root.string("dept_tier")
        guard let level = tiers[tier] else {
            throw FeedRejection(reason: "field dept_tier: '\(FeedFields.quote(tier))' is not one of 小区, 社区, 街道, 区级")
        }
        return Assignee(
            unitCode: try root.nonEmptyText("dept_code", maxLength: FeedLimits.code),
            unitName: try root.text("dept_name", maxLength: FeedLimits.name), level: level)
    }
}
