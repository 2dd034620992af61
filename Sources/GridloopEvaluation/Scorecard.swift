import Foundation
import GridloopCore
import GridloopStore
import GridloopViews

/// The unit scorecard (评议): for the handlings that began in a period, one row per level and
/// unit with its response, on-time, overdue, return, resolution, satisfaction and reopen
/// figures, a composite score weighted by the policy's `evaluation:` section, the unit's rank
/// within its level and the red and black lists (红榜 / 黑榜). Every figure is defined in
/// docs/SCORECARD.md; the Store counts (`ScorecardQueries`), this computes rates and ranks.
public struct Scorecard: Encodable, Sendable {
    /// One unit at one level.
    public struct UnitRow: Encodable, Sendable {
        public var level: String
        public var unitCode: String
        /// The name the unit goes by in the feeds and escalations; null when none is known.
        public var unitName: String?
        public var assigned: Int
        /// Assigned less the accepted returns.
        public var evaluated: Int
        public var returned: Int
        public var returnedElsewhere: Int
        public var returnRate: Double?
        public var responded: Int
        public var responseBase: Int
        public var responseRate: Double?
        public var onTime: Int
        public var onTimeBase: Int
        public var onTimeRate: Double?
        public var overdue: Int
        public var overdueRate: Double?
        public var escalatedAway: Int
        public var resolved: Int
        public var resolutionBase: Int
        public var resolutionRate: Double?
        public var satisfied: Int
        public var callbacks: Int
        public var satisfactionRate: Double?
        public var reopened: Int
        public var replies: Int
        public var reopenRate: Double?
        public var composite: Double?
        /// Within the level, among the units with at least `minCases` handlings; null otherwise.
        public var rank: Int?
        /// `RED` (红榜), `BLACK` (黑榜) or null.
        public var list: String?

        /// The JSON keys of a row (a channel row has `channel` instead of the unit's keys).
        enum Key: String, CodingKey {
            case level, unitCode, unitName, channel, assigned, evaluated, returned, returnedElsewhere, returnRate
            case responded, responseBase, responseRate, onTime, onTimeBase, onTimeRate, overdue, overdueRate
            case escalatedAway, resolved, resolutionBase, resolutionRate, satisfied, callbacks, satisfactionRate
            case reopened, replies, reopenRate, composite, rank, list
        }

        /// Every key always present: a rate without a base, a rank or a list is null.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(level, forKey: .level)
            try c.encode(unitCode, forKey: .unitCode)
            try c.encode(unitName, forKey: .unitName)
            try encodeFigures(&c)
            try c.encode(rank, forKey: .rank)
            try c.encode(list, forKey: .list)
        }

        /// The counts, rates and composite.
        func encodeFigures(_ c: inout KeyedEncodingContainer<Key>) throws {
            try c.encode(assigned, forKey: .assigned)
            try c.encode(evaluated, forKey: .evaluated)
            try c.encode(returned, forKey: .returned)
            try c.encode(returnedElsewhere, forKey: .returnedElsewhere)
            try c.encode(returnRate, forKey: .returnRate)
            try c.encode(responded, forKey: .responded)
            try c.encode(responseBase, forKey: .responseBase)
            try c.encode(responseRate, forKey: .responseRate)
            try c.encode(onTime, forKey: .onTime)
            try c.encode(onTimeBase, forKey: .onTimeBase)
            try c.encode(onTimeRate, forKey: .onTimeRate)
            try c.encode(overdue, forKey: .overdue)
            try c.encode(overdueRate, forKey: .overdueRate)
            try c.encode(escalatedAway, forKey: .escalatedAway)
            try c.encode(resolved, forKey: .resolved)
            try c.encode(resolutionBase, forKey: .resolutionBase)
            try c.encode(resolutionRate, forKey: .resolutionRate)
            try c.encode(satisfied, forKey: .satisfied)
            try c.encode(callbacks, forKey: .callbacks)
            try c.encode(satisfactionRate, forKey: .satisfactionRate)
            try c.encode(reopened, forKey: .reopened)
            try c.encode(replies, forKey: .replies)
            try c.encode(reopenRate, forKey: .reopenRate)
            try c.encode(composite, forKey: .composite)
        }
    }

    /// The figures of one level's handlings by channel: the cases that came in through 码上反馈
    /// (`channel: QRCODE`, the estates' QR-code posters) against all others (`OTHER`: the other
    /// 12345 channels and every 12319 case). Same definitions as a unit's row; no rank or list.
    public struct ChannelRow: Encodable, Sendable {
        public var level: String
        /// `QRCODE` or `OTHER`.
        public var channel: String
        /// The figures (its unit code and name, rank and list unused).
        public var figures: UnitRow

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: UnitRow.Key.self)
            try c.encode(level, forKey: .level)
            try c.encode(channel, forKey: .channel)
            try figures.encodeFigures(&c)
        }
    }

    public var from: String
    public var to: String
    /// When the figures were computed (RFC 3339): later events can still change a period's figures.
    public var asOf: String
    /// The weights of the composite, by rate (`response`, `onTime`, ...); rates not weighted are absent.
    public var weights: [String: Double]
    public var minCases: Int
    public var listSize: Int
    /// In level order (ESTATE first), then by rank (unranked last), then by unit code.
    public var units: [UnitRow]
    /// Per level (in level order), QRCODE then OTHER; a channel without handlings is absent.
    public var channels: [ChannelRow]
    /// For the HTML page (`loadTrend`): the months of the trend lines, oldest first, and by
    /// `LEVEL|UNITCODE` each unit's composite in those months (null: no figure). Not in the JSON.
    public var trendMonths: [String] = []
    public var trend: [String: [Double?]] = [:]

    enum CodingKeys: String, CodingKey { case from, to, asOf, weights, minCases, listSize, units, channels }

    public static let levelOrder = ["ESTATE", "COMMUNITY", "STREET", "DISTRICT"]

    /// - Parameters: from/to: `YYYY-MM-DD` (Asia/Shanghai), inclusive; level, unit: only the rows
    ///   of that level or unit code (ranks and lists stay those of the whole level).
    public static func load(
        from: String, to: String, level: String? = nil, unit: String? = nil, evaluation: EvaluationPolicy,
        asOf: String, db: Database
    ) throws -> Scorecard {
        let (r, setAside) = try ScorecardQueries.counts(from: from, to: to, db: db)
        for (caseId, problem) in setAside {
            // Not silent: the counts go on without this case's recomputation (its earlier handlings stay).
            FileHandle.standardError.write(
                Data(
                    "gridloopd: cannot recompute the handlings of case \(caseId) (\(problem)); its earlier handlings are counted\n"
                        .utf8))
        }
        var rows: [UnitRow] = []
        var channels: [ChannelRow] = []
        for c in r {
            var row = UnitRow(
                level: c.level, unitCode: c.unitCode ?? "(unknown)", unitName: nil,
                assigned: c.assigned, evaluated: c.evaluated, returned: c.returned, returnedElsewhere: c.returnedElsewhere,
                returnRate: nil, responded: c.responded, responseBase: c.responseBase, responseRate: nil, onTime: c.onTime,
                onTimeBase: c.onTimeBase, onTimeRate: nil, overdue: c.overdue, overdueRate: nil,
                escalatedAway: c.escalatedAway, resolved: c.resolved, resolutionBase: c.resolutionBase,
                resolutionRate: nil, satisfied: c.satisfied, callbacks: c.callbacks, satisfactionRate: nil,
                reopened: c.reopened, replies: c.replies, reopenRate: nil, composite: nil, rank: nil, list: nil)
            row.computeRates(evaluation)
            if c.byChannel {
                channels.append(ChannelRow(level: row.level, channel: c.qr ? "QRCODE" : "OTHER", figures: row))
            } else {
                rows.append(row)
            }
        }
        rank(&rows, evaluation: evaluation)
        let names = try ScorecardQueries.unitNames(codes: Array(Set(rows.map(\.unitCode))), db: db)
        for i in rows.indices { rows[i].unitName = names[rows[i].unitCode] }
        rows.sort {
            let (a, b) = (levelOrder.firstIndex(of: $0.level) ?? 9, levelOrder.firstIndex(of: $1.level) ?? 9)
            if a != b { return a < b }
            if $0.rank != $1.rank { return ($0.rank ?? Int.max) < ($1.rank ?? Int.max) }
            return $0.unitCode < $1.unitCode
        }
        func levelIndex(_ l: String) -> Int { levelOrder.firstIndex(of: l) ?? 9 }
        channels.sort { ($0.level == $1.level) ? $0.channel > $1.channel : levelIndex($0.level) < levelIndex($1.level) }
        if let level {
            rows = rows.filter { $0.level == level }
            channels = channels.filter { $0.level == level }
        }
        if let unit { rows = rows.filter { $0.unitCode == unit } }
        var weights: [String: Double] = [:]
        for (rate, w) in evaluation.weights where w > 0 { weights[rate.rawValue] = w }
        return Scorecard(
            from: from, to: to, asOf: asOf, weights: weights, minCases: evaluation.minCases,
            listSize: evaluation.listSize, units: rows, channels: unit == nil ? channels : [])
    }

    /// Ranks within each level the units with at least `minCases` handlings and a composite
    /// (equal composites, as rounded, share a rank), and marks the red and black lists.
    static func rank(_ rows: inout [UnitRow], evaluation: EvaluationPolicy) {
        for level in Set(rows.map(\.level)) {
            let ranked = rows.indices.filter {
                rows[$0].level == level && rows[$0].assigned >= evaluation.minCases && rows[$0].composite != nil
            }
            let scores = ranked.map { rows[$0].composite! }
            for i in ranked {
                let score = rows[i].composite!
                let rank = 1 + scores.filter { $0 > score }.count
                let fromBottom = 1 + scores.filter { $0 < score }.count
                rows[i].rank = rank
                if rank <= evaluation.listSize {
                    rows[i].list = "RED"
                } else if fromBottom <= evaluation.listSize {
                    rows[i].list = "BLACK"
                }
            }
        }
    }

    /// a / b; nil when b is 0 (no figure).
    static func exactRatio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }

    static func rounded(_ x: Double?, _ places: Int) -> Double? {
        guard let x else { return nil }
        let scale = places == 2 ? 100.0 : 10000.0
        return (x * scale).rounded() / scale
    }

    public func json() throws -> String {
        try prettyJSON(self)
    }
}

extension Scorecard.UnitRow {
    /// The rates from the counts, and the composite from the unrounded rates.
    mutating func computeRates(_ evaluation: EvaluationPolicy) {
        typealias S = Scorecard
        let exact: [EvaluationPolicy.Rate: Double?] = [
            .return: S.exactRatio(returned, assigned), .response: S.exactRatio(responded, responseBase),
            .onTime: S.exactRatio(onTime, onTimeBase), .overdue: S.exactRatio(overdue, evaluated),
            .resolution: S.exactRatio(resolved, resolutionBase), .satisfaction: S.exactRatio(satisfied, callbacks),
            .reopen: S.exactRatio(reopened, replies),
        ]
        returnRate = S.rounded(exact[.return]!, 4)
        responseRate = S.rounded(exact[.response]!, 4)
        onTimeRate = S.rounded(exact[.onTime]!, 4)
        overdueRate = S.rounded(exact[.overdue]!, 4)
        resolutionRate = S.rounded(exact[.resolution]!, 4)
        satisfactionRate = S.rounded(exact[.satisfaction]!, 4)
        reopenRate = S.rounded(exact[.reopen]!, 4)
        composite = S.rounded(evaluation.composite(exact), 2)
    }
}
