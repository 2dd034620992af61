import Foundation
import GridloopStore
import GridloopViews

/// The "721" picture of a district (七二一: 70% of appeals resolved at estate or community, 20%
/// at street, 10% at district): of the cases closed in a period, the share resolved at each
/// level against those targets, and how often cases went overdue, by level, by category and by
/// street or community.
///
/// Definitions (docs/OPERATIONS.md, "report 721"):
/// - The cases counted: those whose state is CLOSED (a REPLY followed by a callback other than
///   UNSATISFIED), with the closing callback's time in the period, Asia/Shanghai dates, both
///   inclusive. Each case once. Withdrawn cases, and cases reopened and not closed again, are not
///   resolved and are not counted; a case reopened and closed again counts in the period of its
///   last closing.
/// - The resolving level: the level at which the case's last REPLY was made (`cases.replied_level`,
///   the same level as the `resolvedLevel` of the case's `gridloop.case.resolved` event).
/// - Went overdue: the case has a `gridloop.case.supervision.overdue` decision (any limit, any
///   time of its life). A level's breach rate: of the counted cases handled at that level
///   (dispatched or redispatched there, escalated to it, or resolved there), the share that went
///   overdue there. A category's, street's or community's: the share of its cases that went
///   overdue anywhere.
public struct Report721: Codable, Sendable {
    public struct LevelRow: Codable, Sendable {
        public var level: String
        public var resolved: Int
        public var share: Double
        public var handled: Int
        public var breached: Int
        public var breachRate: Double
    }
    /// One category, street or community.
    public struct GroupRow: Codable, Sendable {
        /// The category's name (`大类/小类`), or the street's or community's administrative code;
        /// `(none)` when the feed did not give it.
        public var key: String
        /// For a street or community: the name of its office as the feeds name it (the unit name
        /// most of its cases at that level are assigned to, e.g. `骆岗街道办事处`); null when none
        /// of its cases is at that level now, and for categories.
        public var name: String?
        public var resolved: Int
        /// Resolved at estate or community, street, district.
        public var estateCommunity: Int
        public var street: Int
        public var district: Int
        /// The share resolved at estate or community (against 70%).
        public var estateCommunityShare: Double
        public var breached: Int
        public var breachRate: Double

        enum CodingKeys: String, CodingKey {
            case key, name, resolved, estateCommunity, street, district, estateCommunityShare, breached, breachRate
        }

        /// `name` always present (null when unknown), like the report's other keys.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(key, forKey: .key)
            try c.encode(name, forKey: .name)
            try c.encode(resolved, forKey: .resolved)
            try c.encode(estateCommunity, forKey: .estateCommunity)
            try c.encode(street, forKey: .street)
            try c.encode(district, forKey: .district)
            try c.encode(estateCommunityShare, forKey: .estateCommunityShare)
            try c.encode(breached, forKey: .breached)
            try c.encode(breachRate, forKey: .breachRate)
        }
    }
    public struct Target: Codable, Sendable {
        public var tier: String
        public var resolved: Int
        public var actual: Double
        public var target: Double
        /// ESTATE+COMMUNITY at or above its target; STREET and DISTRICT at or below theirs.
        public var met: Bool
    }

    public var from: String
    public var to: String
    public var resolved: Int
    /// Counted cases that went overdue at least once, and their share.
    public var breached: Int
    public var breachRate: Double
    /// Counted cases that had SLA clocks (0 with `sla.enabled: false`: breach rates say nothing then).
    public var withClocks: Int
    /// ESTATE+COMMUNITY vs 0.7, STREET vs 0.2, DISTRICT vs 0.1.
    public var targets: [Target]
    public var levels: [LevelRow]
    public var categories: [GroupRow]
    /// `street` or `community` when asked for one row per unit, else nil (and `units` empty).
    public var by: String?
    public var units: [GroupRow]

    enum CodingKeys: String, CodingKey {
        case from, to, resolved, breached, breachRate, withClocks, targets, levels, categories, by, units
    }

    /// Every key always present (`by` null when not asked).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(from, forKey: .from)
        try c.encode(to, forKey: .to)
        try c.encode(resolved, forKey: .resolved)
        try c.encode(breached, forKey: .breached)
        try c.encode(breachRate, forKey: .breachRate)
        try c.encode(withClocks, forKey: .withClocks)
        try c.encode(targets, forKey: .targets)
        try c.encode(levels, forKey: .levels)
        try c.encode(categories, forKey: .categories)
        try c.encode(by, forKey: .by)
        try c.encode(units, forKey: .units)
    }

    public static let levelOrder = ["ESTATE", "COMMUNITY", "STREET", "DISTRICT"]

    /// - Parameters: from/to: `YYYY-MM-DD` (Asia/Shanghai), inclusive; by: nil, "street" or "community".
    public static func load(from: String, to: String, by: String?, db: Database) throws -> Report721 {
        var levels = try Report721Queries.byLevel(from: from, to: to, db: db).map {
            LevelRow(
                level: $0.level, resolved: $0.resolved, share: 0, handled: $0.handled, breached: $0.overdue,
                breachRate: ratio($0.overdue, $0.handled))
        }
        levels.sort { levelOrder.firstIndex(of: $0.level)! < levelOrder.firstIndex(of: $1.level)! }
        let total = levels.map(\.resolved).reduce(0, +)
        for i in levels.indices { levels[i].share = ratio(levels[i].resolved, total) }
        let all = try Report721Queries.totals(from: from, to: to, db: db)
        func count(_ names: [String]) -> Int { levels.filter { names.contains($0.level) }.map(\.resolved).reduce(0, +) }
        let tiers: [(String, [String], Double)] = [
            ("ESTATE+COMMUNITY", ["ESTATE", "COMMUNITY"], 0.7), ("STREET", ["STREET"], 0.2),
            ("DISTRICT", ["DISTRICT"], 0.1),
        ]
        let targets = tiers.map { tier, names, target in
            let actual = ratio(count(names), total)
            return Target(
                tier: tier, resolved: count(names), actual: actual, target: target,
                met: tier == "ESTATE+COMMUNITY" ? actual >= target : actual <= target)
        }
        func groups(_ column: String) throws -> [GroupRow] {
            try Report721Queries.groups(column, from: from, to: to, db: db).map {
                GroupRow(
                    key: $0.key, name: nil, resolved: $0.cases, estateCommunity: $0.estateCommunity, street: $0.street,
                    district: $0.district, estateCommunityShare: ratio($0.estateCommunity, $0.cases),
                    breached: $0.overdue, breachRate: ratio($0.overdue, $0.cases))
            }
        }
        // By name: 12319 has no category code, and both platforms use the same 大类/小类 names.
        let categories = try groups("category_name")
        var units = by == "street" ? try groups("street_code") : by == "community" ? try groups("community_code") : []
        if let by, !units.isEmpty {
            let names = try unitNames(
                by == "street" ? ("street_code", "STREET") : ("community_code", "COMMUNITY"),
                codes: units.map(\.key), db: db)
            for i in units.indices { units[i].name = names[units[i].key] }
        }
        let breached = all.overdue
        return Report721(
            from: from, to: to, resolved: total, breached: breached, breachRate: ratio(breached, total),
            withClocks: all.withClocks, targets: targets, levels: levels, categories: categories,
            by: by, units: units)
    }

    /// The feeds carry only codes for streets and communities; the name a leader knows one by is
    /// its office's: the unit the platform assigns its cases to at the STREET level (a
    /// community's: at COMMUNITY). The most frequent name among the cases whose current unit was
    /// assigned at that level by a DISPATCH or REDISPATCH (an escalation moves a case up the
    /// ladder but keeps the unit the platform gave it), over all cases, not only the period's.
    static func unitNames(
        _ unit: (column: String, level: String), codes: [String],
        db: Database
    ) throws -> [String: String] {
        try Report721Queries.unitNames(column: unit.column, level: unit.level, codes: codes, db: db)
    }

    /// a / b, rounded to 4 decimals; 0 when b is 0.
    static func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : (Double(a) / Double(b) * 10000).rounded() / 10000 }

    public func json() throws -> String {
        try prettyJSON(self)
    }
}
