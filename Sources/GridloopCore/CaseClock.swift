/// The SLA clocks of one case at its current loop level, and what of them has been announced.
/// Everything is in event time (epoch milliseconds): the same events always give the same clocks.
public struct CaseClock: Sendable, Hashable, Codable {
    /// One running limit (sign or handle).
    public struct Clock: Sendable, Hashable, Codable {
        public enum Stage: Int, Sendable, Hashable, Codable {
            /// Nothing announced yet.
            case running = 0
            /// `supervision.warning` emitted.
            case warned = 1
            /// `supervision.overdue` emitted (only kept at the top level: below it the case escalates).
            case overdue = 2
        }
        public var kind: ClockKind
        /// The limit in force, with approved extensions added.
        public var limit: TimeLimit
        public var stage: Stage = .running
        /// When the limit passes; nil while an open suspension stops the clock.
        public var deadline: Int64?
        /// When the warning share is reached; nil while suspended.
        public var warningAt: Int64?
        /// Urges emitted since the deadline passed (top level only).
        public var urges: Int = 0
        public init(kind: ClockKind, limit: TimeLimit) {
            self.kind = kind
            self.limit = limit
        }
    }

    public var caseId: String
    /// Where the case's messages come from: only the holder of this partition decides for it.
    public var topic: String
    public var partition: Int32
    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
    public var level: LoopLevel
    /// 1, 2, ... for each assignment of the case (dispatch, redispatch, escalation, reopening);
    /// part of every decision's id, so that two decisions never share one.
    public var assignment: Int
    /// When the current assignment started.
    public var assignedAt: Int64
    /// Whether the current assignment came from the platform (its own limits may tighten ours).
    public var platformAssigned: Bool
    public var sign: Clock?
    public var handle: Clock?
    /// The platform's own sign and handle deadlines for this assignment, when they tighten ours.
    public var platformSign: Int64?
    public var platformHandle: Int64?
    /// Suspensions (挂起) during the current assignment.
    public var suspensions: [Suspension]
    /// Escalations so far (all levels).
    public var escalations: Int
    /// Stopped by RETURN until REDISPATCH.
    public var awaitingRedispatch: Bool
    /// Replied at this assignment (awaiting the callback).
    public var replied: Bool
    public var closed: Bool
    /// The version (`SLAPolicy.version`) of the policy the current assignment's clocks started
    /// under; nil for clocks written before versions were recorded.
    public var policyVersion: String?
    /// Each version change between assignments, `<assignment>:<version>` separated by `;`
    /// (`1:3f9a…;4:8c01…`: assignments 1–3 under the first, 4 on under the second); nil while
    /// every assignment recorded one version (then `policyVersion` is all of it).
    public var policyHistory: String?

    /// Records that the assignment just started (`assignment`) runs under `version`.
    mutating func recordPolicyVersion(_ version: String) {
        let v: String? = version.isEmpty ? nil : version
        if let v, let old = policyVersion, old != v {
            let first = policyHistory ?? "1:\(old)"
            policyHistory = first + ";\(assignment):\(v)"
        }
        policyVersion = v
    }

    /// The version assignment `n` started under, as recorded (nil: unknown).
    public func policyVersion(ofAssignment n: Int) -> String? {
        Self.policyVersion(ofAssignment: n, current: policyVersion, history: policyHistory)
    }

    /// The same from the two stored fields.
    public static func policyVersion(ofAssignment n: Int, current: String?, history: String?) -> String? {
        guard let policyHistory = history else { return current }
        var found: String?
        for entry in policyHistory.split(separator: ";") {
            let parts = entry.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let k = Int(parts[0]) else { continue }
            if k <= n { found = String(parts[1]) }
        }
        return found
    }

    public init(caseId: String, topic: String, partition: Int32, level: LoopLevel, assignedAt: Int64) {
        self.caseId = caseId
        self.topic = topic
        self.partition = partition
        self.level = level
        self.assignment = 0
        self.assignedAt = assignedAt
        self.platformAssigned = true
        self.sign = nil
        self.handle = nil
        self.suspensions = []
        self.escalations = 0
        self.awaitingRedispatch = false
        self.replied = false
        self.closed = false
    }

    /// The clock of `kind`, if it runs.
    public subscript(kind: ClockKind) -> Clock? {
        get { kind == .sign ? sign : handle }
        set { if kind == .sign { sign = newValue } else { handle = newValue } }
    }

    /// Whether a suspension is open.
    public var isSuspended: Bool { suspensions.last.map { $0.to == nil } ?? false }
}

/// A limit is stored as it is written: `3wd`.
extension TimeLimit: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let limit = TimeLimit(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a limit: \(text)"))
        }
        self = limit
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
