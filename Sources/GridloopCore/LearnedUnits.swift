/// What the feeds teach about the directory: the unit the platform itself dispatched or
/// redispatched a case to at a level, for that case's code there (the latest such assignment
/// wins: a REDISPATCH after a RETURN corrects the first choice). Kept in `learned_units`.
public struct LearnedUnits: Sendable, Hashable {
    public struct Learned: Sendable, Hashable {
        public var unit: UnitRef
        /// The case whose assignment taught it, and when (event time, epoch ms).
        public var caseId: String
        public var at: Int64
        public init(unit: UnitRef, caseId: String, at: Int64) {
            self.unit = unit
            self.caseId = caseId
            self.at = at
        }
    }

    public private(set) var units: [UnitKey: Learned]

    public init(_ units: [UnitKey: Learned] = [:]) { self.units = units }

    public subscript(key: UnitKey) -> Learned? { units[key] }

    /// Learns from a DISPATCH or REDISPATCH applied to a case (`state` is the case after it):
    /// returns the key learned when it changed what was known, else nil.
    @discardableResult
    public mutating func learn(from event: CaseEvent, state: CaseState) -> UnitKey? {
        guard event.type == .dispatch || event.type == .redispatch, let a = event.assignee, !a.unitCode.isEmpty,
            let key = UnitKey(level: a.level, state: state)
        else { return nil }
        let unit = UnitRef(unitCode: a.unitCode, unitName: a.unitName)
        if let known = units[key], known.at > event.eventTime || known.unit == unit { return nil }
        units[key] = Learned(unit: unit, caseId: state.caseId, at: event.eventTime)
        return key
    }

    /// Adds what another source learned (another instance, through the database): later wins.
    public mutating func merge(_ other: [UnitKey: Learned]) {
        for (k, v) in other where (units[k]?.at ?? .min) <= v.at { units[k] = v }
    }
}

/// How the receiving unit of an escalation was found.
public enum UnitResolvedBy: String, Sendable, Hashable, Codable, CaseIterable {
    /// The directory file names it.
    case directory
    /// The platform dispatched a case with the same code to it at that level.
    case learned
    /// Neither knew: the configured default unit (督查室) takes it.
    case `default`
}

/// The unit that takes a case at a level, and why.
public struct UnitResolution: Sendable, Hashable {
    /// Where the unit was found (what `why` tells people).
    public enum Source: Sendable, Hashable {
        /// The directory file's entry at this `file:line`.
        case directory(origin: String)
        /// What the platform's assignment of this case taught.
        case learned(caseId: String)
        /// Nothing known: the default unit, written at this `file:line`.
        case `default`(origin: String)
    }

    public var unit: UnitRef
    /// The code looked up (nil when the case lacks it).
    public var key: UnitKey?
    public var source: Source

    public init(unit: UnitRef, key: UnitKey?, source: Source) {
        self.unit = unit
        self.key = key
        self.source = source
    }

    public var resolvedBy: UnitResolvedBy {
        switch source {
        case .directory: .directory
        case .learned: .learned
        case .default: .default
        }
    }

    /// Why, for people: the directory line, the case that taught it, or what was missing. Built
    /// only when asked (an escalation burst resolves 100,000s of units and shows none of this).
    public var why: String {
        switch source {
        case .directory(let origin): return "directory entry at \(origin)"
        case .learned(let caseId):
            return "learned: the platform assigned case \(caseId) with \(key.map { "\($0)" } ?? "its code") to this unit"
        case .default(let origin):
            let missing = key.map { "no directory entry and nothing learned for \($0)" } ?? "the case has no code at that level"
            return "\(missing); default unit (\(origin))"
        }
    }

    /// The unit that takes `state`'s case at `level`: the directory file first, then what the
    /// feeds taught, then the default unit.
    public static func resolve(
        level: LoopLevel, for state: CaseState, directory: UnitDirectory, learned: LearnedUnits
    ) -> UnitResolution {
        let key = UnitKey(level: level, state: state)
        if let key, let e = directory.entry(for: key) {
            return UnitResolution(unit: e.unit, key: key, source: .directory(origin: e.origin))
        }
        if let key, let l = learned[key] {
            return UnitResolution(unit: l.unit, key: key, source: .learned(caseId: l.caseId))
        }
        return UnitResolution(unit: directory.defaultUnit, key: key, source: .default(origin: directory.defaultOrigin))
    }
}
