import Foundation
import GridloopPostgres

/// The "721" picture of a district: of the cases resolved in a period, the share resolved at
/// estate or community (target 70%), at street (20%) and at district (10%), and how often
/// each level let a limit pass (breach rate), overall, by category and by street or community.
///
/// Definitions (README, "The 721 report"): a case counts once, at its last resolution
/// (`gridloop.case.resolved`, event time) within the period, Asia/Shanghai dates inclusive,
/// at the level that resolved it. A level's breach rate: of those cases that were handled at
/// that level (resolved there or escalated from it), the share with an overdue decision there.
/// A category's or unit's breach rate: the share of its cases with any overdue decision.
public struct Report721: Codable, Sendable {
    public struct LevelRow: Codable, Sendable {
        public var level: String
        public var resolved: Int
        public var share: Double
        public var handled: Int
        public var breached: Int
        public var breachRate: Double
    }
    public struct GroupRow: Codable, Sendable {
        public var code: String
        public var name: String?
        public var resolved: Int
        /// Resolved at estate or community, street, district.
        public var estateCommunity: Int
        public var street: Int
        public var district: Int
        public var breached: Int
        public var breachRate: Double
    }
    public struct Target: Codable, Sendable {
        public var tier: String
        public var actual: Double
        public var target: Double
    }

    public var from: String
    public var to: String
    public var resolved: Int
    /// ESTATE+COMMUNITY vs 0.7, STREET vs 0.2, DISTRICT vs 0.1.
    public var targets: [Target]
    public var levels: [LevelRow]
    public var categories: [GroupRow]
    /// Per street or community, when asked (`by`).
    public var by: String?
    public var units: [GroupRow]

    public static let levelOrder = ["ESTATE", "COMMUNITY", "STREET", "DISTRICT"]

    /// - Parameters: from/to: `YYYY-MM-DD`; by: nil, "street" or "community".
    public static func load(from: String, to: String, by: String?, db: PostgresConnection) throws -> Report721 {
        // The cohort: one row per case, its last resolution in the period.
        let cohort = """
            WITH cohort AS (
                SELECT DISTINCT ON (d.case_id) d.case_id, d.level AS resolved_level
                FROM sla_decisions d
                WHERE d.type = 'gridloop.case.resolved'
                  AND d.decided_at >= ($1::date::timestamp AT TIME ZONE 'Asia/Shanghai')
                  AND d.decided_at < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')
                ORDER BY d.case_id, d.decided_at DESC),
            overdue AS (
                SELECT DISTINCT d.case_id, d.level FROM sla_decisions d JOIN cohort USING (case_id)
                WHERE d.type = 'gridloop.case.supervision.overdue'),
            escalated AS (
                SELECT DISTINCT d.case_id, d.level FROM sla_decisions d JOIN cohort USING (case_id)
                WHERE d.type = 'gridloop.case.escalated')
            """
        let params = [from, to]
        let lv = try db.query(cohort + """
            , levels(level) AS (SELECT unnest(ARRAY['ESTATE', 'COMMUNITY', 'STREET', 'DISTRICT']))
            SELECT l.level,
                   (SELECT count(*) FROM cohort c WHERE c.resolved_level = l.level),
                   (SELECT count(*) FROM cohort c WHERE c.resolved_level = l.level
                        OR EXISTS (SELECT 1 FROM escalated e WHERE e.case_id = c.case_id AND e.level = l.level)),
                   (SELECT count(*) FROM overdue o WHERE o.level = l.level)
            FROM levels l
            """, params, context: "721 by level")
        var levels: [LevelRow] = []
        for i in 0..<lv.count {
            levels.append(LevelRow(level: lv.string(i, 0)!, resolved: lv.int(i, 1)!, share: 0, handled: lv.int(i, 2)!,
                                   breached: lv.int(i, 3)!, breachRate: 0))
        }
        let total = levels.map(\.resolved).reduce(0, +)
        for i in levels.indices {
            levels[i].share = ratio(levels[i].resolved, total)
            levels[i].breachRate = ratio(levels[i].breached, levels[i].handled)
        }
        levels.sort { levelOrder.firstIndex(of: $0.level)! < levelOrder.firstIndex(of: $1.level)! }
        func count(_ names: [String]) -> Int { levels.filter { names.contains($0.level) }.map(\.resolved).reduce(0, +) }
        let targets = [
            Target(tier: "ESTATE+COMMUNITY", actual: ratio(count(["ESTATE", "COMMUNITY"]), total), target: 0.7),
            Target(tier: "STREET", actual: ratio(count(["STREET"]), total), target: 0.2),
            Target(tier: "DISTRICT", actual: ratio(count(["DISTRICT"]), total), target: 0.1),
        ]
        func groups(_ code: String, _ name: String) throws -> [GroupRow] {
            let r = try db.query(cohort + """
                SELECT coalesce(\(code), '(none)'), \(name), count(*),
                       count(*) FILTER (WHERE c.resolved_level IN ('ESTATE', 'COMMUNITY')),
                       count(*) FILTER (WHERE c.resolved_level = 'STREET'),
                       count(*) FILTER (WHERE c.resolved_level = 'DISTRICT'),
                       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM overdue o WHERE o.case_id = c.case_id))
                FROM cohort c JOIN cases k USING (case_id)
                GROUP BY 1 ORDER BY 3 DESC, 1
                """, params, context: "721 by group")
            return (0..<r.count).map { i in
                GroupRow(code: r.string(i, 0)!, name: r.string(i, 1), resolved: r.int(i, 2)!, estateCommunity: r.int(i, 3)!,
                         street: r.int(i, 4)!, district: r.int(i, 5)!, breached: r.int(i, 6)!,
                         breachRate: ratio(r.int(i, 6)!, r.int(i, 2)!))
            }
        }
        let categories = try groups("k.category_name", "max(NULL::text)")  // by name: 12319 has no category code
        var units: [GroupRow] = []
        if by == "street" { units = try groups("k.street_code", "max(NULL::text)") }
        if by == "community" { units = try groups("k.community_code", "max(NULL::text)") }
        return Report721(from: from, to: to, resolved: total, targets: targets, levels: levels, categories: categories,
                         by: by, units: units)
    }

    static func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : (Double(a) / Double(b) * 10000).rounded() / 10000 }

    public func json() throws -> String {
        try prettyJSON(self)
    }
}
