/// The probability that an open clock breaches its limit, from the history of handlings
/// (docs/FORECAST.md): a Kaplan–Meier curve of the time to the clock's milestone, conditioned
/// on the time already used, P(breach) = S(budget) / S(used).
///
/// Which history: the unit's own at that level and clock kind when it has at least
/// `minHandlings` handlings there; else the handlings of every unit at that level, clock kind
/// and category (a unit with little history is most like the others doing the same kind of work
/// at its level: a blocked drain is not a noise complaint); else every unit at that level and
/// kind. The same fallback when a curve cannot say (no handling of it lasted as long as this
/// one has without its milestone). Each answer names the estimate it used.
public struct BreachForecaster: Sendable {
    /// Which history an answer used.
    public enum Basis: String, Sendable, Hashable, Codable {
        /// The unit's own handlings at the level and clock kind.
        case unit = "UNIT"
        /// Every unit's at the level, clock kind and category.
        case levelCategory = "LEVEL_CATEGORY"
        /// Every unit's at the level and clock kind.
        case level = "LEVEL"
        /// This clock has been open longer than any handling of every pool without its
        /// milestone: counted as a breach (probability 1).
        case beyondHistory = "BEYOND_HISTORY"
        /// No handling at the level and kind at all: no probability.
        case none = "NONE"
    }

    /// One past handling of a clock.
    public struct Handling: Sendable, Hashable {
        public var level: LoopLevel
        public var unitCode: String
        public var categoryCode: String
        public var kind: ClockKind
        public var observation: SurvivalCurve.Observation
        public init(
            level: LoopLevel, unitCode: String, categoryCode: String, kind: ClockKind,
            observation: SurvivalCurve.Observation
        ) {
            self.level = level
            self.unitCode = unitCode
            self.categoryCode = categoryCode
            self.kind = kind
            self.observation = observation
        }
    }

    /// An answer.
    public struct Estimate: Sendable, Hashable {
        /// nil only with basis `.none`.
        public var probability: Double?
        public var basis: Basis
        /// Handlings of the history used (0 for `.beyondHistory` and `.none`).
        public var handlings: Int
    }

    private struct UnitKey: Hashable {
        var level: LoopLevel, kind: ClockKind, unit: String
    }
    private struct CategoryKey: Hashable {
        var level: LoopLevel, kind: ClockKind, category: String
    }
    private struct LevelKey: Hashable {
        var level: LoopLevel, kind: ClockKind
    }

    public let minHandlings: Int
    private var byUnit: [UnitKey: SurvivalCurve] = [:]
    private var byCategory: [CategoryKey: SurvivalCurve] = [:]
    private var byLevel: [LevelKey: SurvivalCurve] = [:]

    public init<S: Sequence>(history: S, minHandlings: Int = 20) where S.Element == Handling {
        self.minHandlings = max(1, minHandlings)
        var u: [UnitKey: [SurvivalCurve.Observation]] = [:]
        var c: [CategoryKey: [SurvivalCurve.Observation]] = [:]
        var l: [LevelKey: [SurvivalCurve.Observation]] = [:]
        for h in history {
            u[UnitKey(level: h.level, kind: h.kind, unit: h.unitCode), default: []].append(h.observation)
            c[CategoryKey(level: h.level, kind: h.kind, category: h.categoryCode), default: []].append(h.observation)
            l[LevelKey(level: h.level, kind: h.kind), default: []].append(h.observation)
        }
        byUnit = u.mapValues { SurvivalCurve($0) }
        byCategory = c.mapValues { SurvivalCurve($0) }
        byLevel = l.mapValues { SurvivalCurve($0) }
    }

    /// The estimate for a clock of `kind` at `level`, held by `unitCode`, of category
    /// `categoryCode`, which has used `used` of its `budget` (countable milliseconds).
    public func estimate(
        level: LoopLevel, unitCode: String, categoryCode: String, kind: ClockKind, used: Int64, budget: Int64
    ) -> Estimate {
        guard let levelCurve = byLevel[LevelKey(level: level, kind: kind)] else {
            return Estimate(probability: nil, basis: .none, handlings: 0)
        }
        let pools: [(SurvivalCurve?, Basis)] = [
            (byUnit[UnitKey(level: level, kind: kind, unit: unitCode)], .unit),
            (byCategory[CategoryKey(level: level, kind: kind, category: categoryCode)], .levelCategory),
            (levelCurve, .level),
        ]
        for (curve, basis) in pools {
            guard let curve, curve.observations >= (basis == .level ? 1 : minHandlings) else { continue }
            if let p = curve.breachProbability(used: used, budget: budget) {
                return Estimate(probability: p, basis: basis, handlings: curve.observations)
            }
        }
        return Estimate(probability: 1, basis: .beyondHistory, handlings: 0)
    }

    /// How many handlings the unit has at the level and kind in the history.
    public func handlings(level: LoopLevel, unitCode: String, kind: ClockKind) -> Int {
        byUnit[UnitKey(level: level, kind: kind, unit: unitCode)]?.observations ?? 0
    }
}
