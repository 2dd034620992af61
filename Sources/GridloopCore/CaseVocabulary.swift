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
