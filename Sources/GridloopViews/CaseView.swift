import Foundation
import GridloopStore

/// A case as people and scripts see it (`gridloopd case show`). Holds no personal data:
/// none is stored.
public struct CaseView: Codable, Sendable {
    public struct Event: Codable, Sendable {
        public var eventNo: Int
        public var type: String
        public var eventTime: String
        public var messageId: String
        public var sequence: Int?
        public var gapBefore: Int
        public var level: String?
        public var unitCode: String?
        public var result: String?
        public var days: Int?
        public var satisfaction: String?
        public var topic: String
        public var partition: Int
        public var offset: Int64
    }

    public var caseId: String
    public var source: String
    public var orderNo: String
    public var status: String
    public var level: String
    public var unitCode: String
    public var unitName: String
    public var urgency: String
    public var category: String
    public var categoryCode: String?
    /// How the citizen reached the hotline (12345: `PHONE`, `QRCODE`, ...); null for 12319.
    public var channel: String?
    public var acceptTime: String
    public var assignedAt: String
    public var signedAt: String?
    public var repliedAt: String?
    public var closedAt: String?
    public var suspendedSince: String?
    public var extensionDays: Int
    public var repliedLevel: String?
    public var gapCount: Int
    public var events: [Event]
    /// The SLA clocks at the current level, as of `asOf` (see CaseView+Clocks.swift).
    public var clocks: [ClockView] = []
    /// Every event the ladder emitted for the case, and whether it has been published.
    public var emitted: [Emitted] = []
    public var asOf: String?

    public static func load(caseId: String, from db: Database) throws -> CaseView? {
        guard let r = try CaseQueries.caseRow(caseId: caseId, from: db) else { return nil }
        let events = try CaseQueries.events(caseId: caseId, from: db).map { e in
            Event(
                eventNo: e.eventNo, type: e.type, eventTime: e.eventTime, messageId: e.eventKey, sequence: e.sequence,
                gapBefore: e.gapBefore, level: e.level, unitCode: e.unitCode, result: e.result, days: e.days,
                satisfaction: e.satisfaction, topic: e.source.topic, partition: Int(e.source.partition),
                offset: e.source.offset)
        }
        return CaseView(
            caseId: r.caseId, source: r.source, orderNo: r.orderNo, status: r.status, level: r.level,
            unitCode: r.unitCode, unitName: r.unitName, urgency: r.urgency, category: r.categoryName,
            categoryCode: r.categoryCode, channel: r.channel, acceptTime: r.acceptTime, assignedAt: r.assignedAt,
            signedAt: r.signedAt, repliedAt: r.repliedAt, closedAt: r.closedAt, suspendedSince: r.suspendedSince,
            extensionDays: r.extensionDays, repliedLevel: r.repliedLevel, gapCount: r.gapCount, events: events)
    }

    public func json() throws -> String {
        try prettyJSON(self)
    }

    public func text() -> String {
        var out = """
            case      \(caseId)
            status    \(status) at \(level) (\(unitName), \(unitCode))
            category  \(category)\(categoryCode.map { " [\($0)]" } ?? "")   urgency \(urgency)\(channel.map { "   channel \($0)" } ?? "")
            accepted  \(acceptTime)   assigned \(assignedAt)
            """
        if let signedAt { out += "\nsigned    \(signedAt)" }
        if let repliedAt { out += "\nreplied   \(repliedAt)\(repliedLevel.map { " at \($0)" } ?? "")" }
        if let closedAt { out += "\nclosed    \(closedAt)" }
        if let suspendedSince { out += "\nsuspended since \(suspendedSince)" }
        if extensionDays > 0 { out += "\nextended  \(extensionDays) working days" }
        if gapCount > 0 { out += "\ngaps      \(gapCount) event_seq gap(s) accepted after the hold" }
        out += clocksText()
        out += "\n\nevents:"
        for e in events {
            var what = e.type
            if let l = e.level { what += " → \(l)" }
            if let r = e.result { what += " \(r)" }
            if let s = e.satisfaction { what += " \(s)" }
            if let d = e.days { what += " +\(d)wd" }
            if e.gapBefore > 0 { what += " (after a gap of \(e.gapBefore))" }
            let seq = e.sequence.map { " seq \($0)" } ?? ""
            out +=
                "\n  \(String(e.eventNo).leftPad(3)). \(e.eventTime)  \(what.rightPad(28)) \(e.topic)[\(e.partition)]@\(e.offset)\(seq)"
        }
        out += emittedText()
        return out
    }
}
