import Foundation
import GridloopCore
import GridloopStore

// The morning digest (docs/FORECAST.md, docs/EVENTS.md): at forecast.digestAt of each working
// day, one CloudEvent `gridloop.unit.digest` per unit with clocks at risk that day, on the
// supervision topic, through the outbox, with the id `digest/<date>/<level>/<unit code>`. One
// text per unit head instead of one per case, for the SMS gateway.

/// A day's digests, built from the forecast's clocks as they come: per unit, the clocks due in
/// the window (counted and summed) and those at or above the threshold (kept).
public struct MorningDigest: Sendable {
    public static let type = "gridloop.unit.digest"

    struct Case: Encodable, Sendable {
        var caseId: String
        var clock: String
        var deadline: String
        var probability: Double
        var basis: String
        var deadlineMillis: Int64
        enum CodingKeys: String, CodingKey { case caseId, clock, deadline, probability, basis }
    }

    struct Data: Encodable {
        var date: String
        var level: String
        var unitCode: String
        var unitName: String?
        var asOf: String
        var until: String
        var threshold: Double
        var clocksDue: Int
        var expectedBreaches: Double
        var atRisk: [Case]
        enum CodingKeys: String, CodingKey {
            case date, level, unitCode, unitName, asOf, until, threshold, clocksDue, expectedBreaches, atRisk
        }
        /// Every key present (an unknown name is null).
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(date, forKey: .date)
            try c.encode(level, forKey: .level)
            try c.encode(unitCode, forKey: .unitCode)
            try c.encode(unitName, forKey: .unitName)
            try c.encode(asOf, forKey: .asOf)
            try c.encode(until, forKey: .until)
            try c.encode(threshold, forKey: .threshold)
            try c.encode(clocksDue, forKey: .clocksDue)
            try c.encode(expectedBreaches, forKey: .expectedBreaches)
            try c.encode(atRisk, forKey: .atRisk)
        }
    }

    struct Unit: Sendable {
        var level: LoopLevel
        var unitCode: String
        var clocksDue = 0
        var expectedBreaches = 0.0
        var atRisk: [Case] = []
    }

    let threshold: Double
    private(set) var units: [String: Unit] = [:]

    public init(threshold: Double) { self.threshold = threshold }

    /// Counts one clock of the window; keeps it when at or above the threshold.
    public mutating func add(_ r: ForecastModel.ClockRisk) {
        let key = "\(r.level.rawValue)\u{0}\(r.unitCode)"
        var u = units[key] ?? Unit(level: r.level, unitCode: r.unitCode)
        u.clocksDue += 1
        u.expectedBreaches += r.probability ?? 0
        if let p = r.probability, p >= threshold {
            u.atRisk.append(
                Case(
                    caseId: r.caseId, clock: r.kind.rawValue, deadline: RFC3339.format(r.deadline), probability: p,
                    basis: r.basis, deadlineMillis: r.deadline))
        }
        units[key] = u
    }

    /// One message per unit with at least one clock at or above the threshold, highest
    /// probability first (then the earliest deadline); `day` is `YYYY-MM-DD`, `at` the
    /// forecast's instant, `until` the window's end (epoch ms), `names` the units' names.
    public func messages(
        day: String, at: Int64, until: Int64, names: [String: String], topic: String, deployment: String
    ) throws -> [OutboxMessage] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let asOf = RFC3339.format(at)
        let time = CloudEvents.time(asOf)
        var out: [OutboxMessage] = []
        let ordered = units.values.filter { !$0.atRisk.isEmpty }.sorted {
            ($0.expectedBreaches, $1.level.rank, $1.unitCode) > ($1.expectedBreaches, $0.level.rank, $0.unitCode)
        }
        for u in ordered {
            let atRisk = u.atRisk.sorted {
                ($0.probability, -$0.deadlineMillis, $0.caseId) > ($1.probability, -$1.deadlineMillis, $1.caseId)
            }
            let id = "digest/\(day)/\(u.level.rawValue)/\(u.unitCode)"
            let event = CloudEventEnvelope(
                id: id, source: "/gridloop/\(deployment)", type: Self.type, subject: u.unitCode, time: time,
                data: Data(
                    date: day, level: u.level.rawValue, unitCode: u.unitCode, unitName: names[u.unitCode], asOf: asOf,
                    until: RFC3339.format(until), threshold: threshold, clocksDue: u.clocksDue,
                    expectedBreaches: u.expectedBreaches, atRisk: atRisk))
            out.append(
                OutboxMessage(
                    id: id, topic: topic, key: Array(u.unitCode.utf8), value: Array(try encoder.encode(event)),
                    headers: OutboxMessage.decisionHeaders(id: id)))
        }
        return out
    }

    /// The units with a clock at risk (their codes, for their names).
    public var unitCodes: [String] { Array(Set(units.values.filter { !$0.atRisk.isEmpty }.map(\.unitCode))).sorted() }
}
