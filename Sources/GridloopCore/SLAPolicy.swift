/// The two clocks of a loop level: 签收 sign and 办理 handle.
public enum ClockKind: String, Sendable, Hashable, Codable, CaseIterable {
    case sign = "SIGN"
    case handle = "HANDLE"
}

/// The SLA policy: the limits of each loop level and how the ladder reacts to events.
/// A value type: loaded and validated by the adapters (`PolicyLoader`), used by the pure core.
public struct SLAPolicy: Sendable, Hashable {
    /// The sign and handle limits that apply to one case at one level.
    public struct Limits: Sendable, Hashable {
        public var sign: TimeLimit
        public var handle: TimeLimit
        public init(sign: TimeLimit, handle: TimeLimit) {
            self.sign = sign
            self.handle = handle
        }
        public subscript(kind: ClockKind) -> TimeLimit { kind == .sign ? sign : handle }
    }

    /// An override: replaces the sign and/or handle limit of the cases it matches. Criteria not
    /// set match everything.
    public struct Override: Sendable, Hashable {
        public var level: LoopLevel?
        public var source: CaseSource?
        public var urgency: Urgency?
        public var categoryPrefix: String?
        public var sign: TimeLimit?
        public var handle: TimeLimit?
        /// Where it was written (`file:line`), for messages.
        public var origin: String
        public init(
            level: LoopLevel? = nil, source: CaseSource? = nil, urgency: Urgency? = nil,
            categoryPrefix: String? = nil, sign: TimeLimit? = nil, handle: TimeLimit? = nil,
            origin: String = ""
        ) {
            self.level = level
            self.source = source
            self.urgency = urgency
            self.categoryPrefix = categoryPrefix
            self.sign = sign
            self.handle = handle
            self.origin = origin
        }

        func matches(level l: LoopLevel, source s: CaseSource, urgency u: Urgency, categoryCode: String?) -> Bool {
            if let level, level != l { return false }
            if let source, source != s { return false }
            if let urgency, urgency != u { return false }
            if let categoryPrefix {
                guard let categoryCode, categoryCode.hasPrefix(categoryPrefix) else { return false }
            }
            return true
        }

        /// Most specific first: a longer category prefix beats a shorter one, then urgency
        /// beats source, then a named level beats any level.
        var specificity: (Int, Int, Int, Int) {
            (categoryPrefix?.count ?? -1, urgency == nil ? 0 : 1, source == nil ? 0 : 1, level == nil ? 0 : 1)
        }
    }

    /// What an unsatisfied callback (回访不满意) does to a replied case.
    public enum ReopenRule: String, Sendable, Hashable, CaseIterable {
        case sameLevel = "SAME_LEVEL"
        case oneLevelUp = "ONE_LEVEL_UP"
    }

    public var levels: [LoopLevel: Limits]
    public var overrides: [Override]
    /// 预警: the share of a limit at which `supervision.warning` is emitted (0 < share < 1).
    public var warningShare: Double
    /// 催办: while a case is overdue at the top level, an urge every interval, at most `urgeCap` times.
    public var urgeInterval: TimeLimit
    public var urgeCap: Int
    /// RETURN (退单) hands the case back to the platform: its clocks stop until REDISPATCH.
    public var returnStopsClocks: Bool
    /// REOPEN after an unsatisfied callback: at the same level or one level up.
    public var reopenUnsatisfied: ReopenRule
    /// Whether the platform's own limit (`timeLimit`, `limit_time`) tightens the policy's: the earlier deadline wins.
    public var platformLimitTightens: Bool
    /// How the unit scorecard weighs and ranks the units (the file's `evaluation:` section).
    public var evaluation: EvaluationPolicy
    /// The policy's version: `SLAPolicy.version(ofText:)` of its file (empty for a policy not read
    /// from a file). Each clock records the version it started under.
    public var version: String = ""

    /// The first 16 hex digits of the SHA-256 of a policy file's text.
    public static func version(ofText text: String) -> String { String(SHA256.hex(text).prefix(16)) }
    /// The file's text, kept with its version (`policy_versions`) so that a version can be read again.
    public var document: String = ""
    /// The file it was read from (or `(built-in) deploy/policy.yaml`).
    public var file: String = ""

    public init(
        levels: [LoopLevel: Limits], overrides: [Override] = [], warningShare: Double = 0.8,
        urgeInterval: TimeLimit, urgeCap: Int, returnStopsClocks: Bool = true,
        reopenUnsatisfied: ReopenRule = .oneLevelUp, platformLimitTightens: Bool = true,
        evaluation: EvaluationPolicy = .standard
    ) {
        self.levels = levels
        // Stable sort: among equally specific overrides the one written first wins.
        self.overrides = overrides.enumerated().sorted { a, b in
            a.element.specificity != b.element.specificity ? a.element.specificity > b.element.specificity : a.offset < b.offset
        }.map(\.element)
        self.warningShare = warningShare
        self.urgeInterval = urgeInterval
        self.urgeCap = urgeCap
        self.returnStopsClocks = returnStopsClocks
        self.reopenUnsatisfied = reopenUnsatisfied
        self.platformLimitTightens = platformLimitTightens
        self.evaluation = evaluation
    }

    /// The limits of a case at `level`: each of sign and handle from the most specific override
    /// that sets it, else from the level.
    public func limits(level: LoopLevel, source: CaseSource, urgency: Urgency, categoryCode: String?) -> Limits {
        var result = levels[level] ?? levels[.district]!
        var signSet = false
        var handleSet = false
        for o in overrides where o.matches(level: level, source: source, urgency: urgency, categoryCode: categoryCode) {
            if !signSet, let s = o.sign {
                result.sign = s
                signSet = true
            }
            if !handleSet, let h = o.handle {
                result.handle = h
                handleSet = true
            }
            if signSet, handleSet { break }
        }
        return result
    }
}
