import Foundation
import GridloopAnalytics
import GridloopCore
import GridloopStore

// Disclosure (公示): a scorecard published as one CloudEvent `gridloop.report.scorecard` per
// level and period, through the outbox, with an id from the period, the level and a revision.
// The figures are those of `--json` (unit codes and names, counts, rates, composite, rank,
// list): never a citizen's data. docs/EVENTS.md and schemas/gridloop.report.scorecard.schema.json.
extension Scorecard {
    public static let reportType = "gridloop.report.scorecard"

    /// One level's content: what is hashed (everything but `asOf` and the revision) and sent.
    struct LevelFigures: Encodable {
        struct Period: Encodable {
            var from: String
            var to: String
        }
        struct Listed: Encodable {
            var unitCode: String
            var unitName: String?
            var rank: Int?
            var composite: Double?
            enum Key: String, CodingKey { case unitCode, unitName, rank, composite }
            /// Every key present (an unknown name is null).
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: Key.self)
                try c.encode(unitCode, forKey: .unitCode)
                try c.encode(unitName, forKey: .unitName)
                try c.encode(rank, forKey: .rank)
                try c.encode(composite, forKey: .composite)
            }
        }
        var period: Period
        var level: String
        var weights: [String: Double]
        var minCases: Int
        var listSize: Int
        var units: [UnitRow]
        var redList: [Listed]
        var blackList: [Listed]
        var channels: [ChannelRow]
    }

    /// The event's `data`: the figures with the revision and when they were computed.
    struct EventData: Encodable {
        var figures: LevelFigures
        var revision: Int
        var asOf: String
        enum Key: String, CodingKey { case revision, asOf }
        func encode(to encoder: any Encoder) throws {
            try figures.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(revision, forKey: .revision)
            try c.encode(asOf, forKey: .asOf)
        }
    }

    /// The levels this scorecard has rows of, in level order.
    public var levels: [String] {
        let present = Set(units.map(\.level))
        return Self.levelOrder.filter(present.contains) + present.subtracting(Self.levelOrder).sorted()
    }

    func figures(level: String) -> LevelFigures {
        let rows = units.filter { $0.level == level }
        func listed(_ list: String) -> [LevelFigures.Listed] {
            rows.filter { $0.list == list }.map {
                LevelFigures.Listed(unitCode: $0.unitCode, unitName: $0.unitName, rank: $0.rank, composite: $0.composite)
            }
        }
        return LevelFigures(
            period: .init(from: from, to: to), level: level, weights: weights, minCases: minCases, listSize: listSize,
            units: rows, redList: listed("RED"), blackList: listed("BLACK"), channels: channels.filter { $0.level == level })
    }

    static func encoded<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// The report's key: `scorecard/<from>..<to>/<level>`; a revision's id adds `/r<revision>`.
    public static func reportKey(from: String, to: String, level: String) -> String { "scorecard/\(from)..\(to)/\(level)" }

    /// What publishing one level did.
    public struct Publication: Encodable, Sendable {
        public var level: String
        public var revision: Int
        public var eventId: String
        /// False: the last revision has the same figures, nothing was queued.
        public var queued: Bool
    }

    /// Queues one event per level of this scorecard whose figures differ from its last
    /// published revision (the first revision when there is none).
    public func publish(topic: String, deployment: String, db: Database) throws -> [Publication] {
        var out: [Publication] = []
        for level in levels {
            let figures = figures(level: level)
            let hash = SHA256.hex(try Self.encoded(figures))
            let key = Self.reportKey(from: from, to: to, level: level)
            let outcome = try ReportPublicationQueries.publish(
                kind: "scorecard", from: from, to: to, level: level, hash: hash,
                message: { revision in
                    let id = "\(key)/r\(revision)"
                    let event = CloudEventEnvelope(
                        id: id, source: "/gridloop/\(deployment)", type: Self.reportType, subject: key,
                        time: CloudEvents.time(asOf),
                        data: EventData(figures: figures, revision: revision, asOf: asOf))
                    return OutboxMessage(
                        id: id, topic: topic, key: Array(key.utf8), value: try Self.encoded(event),
                        headers: OutboxMessage.decisionHeaders(id: id))
                }, db: db)
            switch outcome {
            case .queued(let revision, let id):
                out.append(Publication(level: level, revision: revision, eventId: id, queued: true))
            case .unchanged(let revision, let id):
                out.append(Publication(level: level, revision: revision, eventId: id, queued: false))
            }
        }
        return out
    }

    /// The levels of the period `from`–`to` published already (any revision).
    public static func publishedLevels(from: String, to: String, db: Database) throws -> [String] {
        try ReportPublicationQueries.published(kind: "scorecard", from: from, to: to, db: db)
    }
}
