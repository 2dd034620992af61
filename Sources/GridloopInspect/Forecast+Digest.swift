import Foundation
import GridloopCore
import GridloopPostgres
import GridloopStore

// The morning digest (docs/FORECAST.md, docs/EVENTS.md): at forecast.digestAt of each working
// day, one CloudEvent `gridloop.unit.digest` per unit with clocks at risk that day, on the
// supervision topic, through the outbox, with the id `digest/<date>/<level>/<unit code>`. One
// text per unit head instead of one per case, for the SMS gateway.
extension Forecast {
    public static let digestType = "gridloop.unit.digest"

    struct DigestCase: Encodable {
        var caseId: String
        var clock: String
        var deadline: String
        var probability: Double
        var basis: String
    }

    struct DigestData: Encodable {
        var date: String
        var level: String
        var unitCode: String
        var unitName: String?
        var asOf: String
        var until: String
        var threshold: Double
        var clocksDue: Int
        var expectedBreaches: Double
        var atRisk: [DigestCase]
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

    /// One message per unit with at least one clock at or above `threshold`; `day` is
    /// `YYYY-MM-DD`, `until` the window's end (epoch ms).
    public func digests(day: String, until: Int64, threshold: Double, topic: String, deployment: String) throws
        -> [OutboxMessage]
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let time = Scorecard.eventTime(at)
        var out: [OutboxMessage] = []
        for u in units {
            let atRisk = u.cases.compactMap { c -> DigestCase? in
                guard let p = c.probability, p >= threshold else { return nil }
                return DigestCase(caseId: c.caseId, clock: c.clock, deadline: c.deadline, probability: p, basis: c.basis)
            }
            guard !atRisk.isEmpty else { continue }
            let id = "digest/\(day)/\(u.level)/\(u.unitCode)"
            let event = CloudEventEnvelope(
                id: id, source: "/gridloop/\(deployment)", type: Self.digestType, subject: u.unitCode, time: time,
                data: DigestData(
                    date: day, level: u.level, unitCode: u.unitCode, unitName: u.unitName, asOf: at,
                    until: RFC3339.format(until), threshold: threshold, clocksDue: u.cases.count,
                    expectedBreaches: u.expectedBreaches, atRisk: atRisk))
            out.append(
                OutboxMessage(
                    id: id, topic: topic, key: Array(u.unitCode.utf8), value: Array(try encoder.encode(event)),
                    headers: OutboxMessage.decisionHeaders(id: id)))
        }
        return out
    }

    /// What `queueDigests` did.
    public enum DigestOutcome: Equatable, Sendable {
        /// Today is not a working day, or its digest time has not come.
        case notDue
        /// Queued already (by this daemon or another).
        case done
        /// Queued now: this many events.
        case queued(Int)
    }

    /// The digest step of the daemon's forecast thread, at `now`, with the round's forecast
    /// (`within` `1wd`: the clocks due by the day's end): on a working day at or after `digestAt`
    /// (minutes after local midnight), queues the day's digests once (several daemons: one of them).
    public static func queueDigests(
        _ forecast: Forecast, calendar: WorkingCalendar, now: Int64, digestAt: Int, threshold: Double, topic: String,
        deployment: String, db: PostgresConnection
    ) throws -> DigestOutcome {
        let today = LocalDate(containing: now)
        guard calendar.isWorkingDay(today), now >= today.startMillis + Int64(digestAt) * 60_000 else { return .notDue }
        let day = today.description
        if try DigestQueries.queued(day: day, db: db) { return .done }
        let until = DeadlineCalculator(calendar: calendar).windowEnd(from: now, within: digestWindow) ?? now
        let messages = try forecast.digests(day: day, until: until, threshold: threshold, topic: topic, deployment: deployment)
        return try DigestQueries.queue(day: day, computedAt: now, messages: messages, db: db) ? .queued(messages.count) : .done
    }

    /// The digest's window, and the gauge's: to the end of the working day.
    public static let digestWindow = TimeLimit(amount: 1, unit: .workingDays)
}

