import Foundation
import GridloopPostgres
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

    public static func load(caseId: String, from db: PostgresConnection) throws -> CaseView? {
        let r = try CaseQueries.caseRow(caseId: caseId, from: db)
        guard r.count == 1 else { return nil }
        let e = try CaseQueries.events(caseId: caseId, from: db)
        let events = (0..<e.count).map { i in
            Event(
                eventNo: e.int(i, 0)!, type: e.string(i, 1)!, eventTime: e.string(i, 2)!, messageId: e.string(i, 3)!,
                sequence: e.int(i, 4), gapBefore: e.int(i, 5) ?? 0, level: e.string(i, 6), unitCode: e.string(i, 7),
                result: e.string(i, 8), days: e.int(i, 9), satisfaction: e.string(i, 10), topic: e.string(i, 11)!,
                partition: e.int(i, 12)!, offset: e.int64(i, 13)!)
        }
        return CaseView(
            caseId: r.string(0, 0)!, source: r.string(0, 1)!, orderNo: r.string(0, 2)!, status: r.string(0, 3)!,
            level: r.string(0, 4)!, unitCode: r.string(0, 5)!, unitName: r.string(0, 6)!, urgency: r.string(0, 7)!,
            category: r.string(0, 8)!, categoryCode: r.string(0, 9), channel: r.string(0, 19), acceptTime: r.string(0, 10)!,
            assignedAt: r.string(0, 11)!, signedAt: r.string(0, 12), repliedAt: r.string(0, 13),
            closedAt: r.string(0, 14), suspendedSince: r.string(0, 15), extensionDays: r.int(0, 16) ?? 0,
            repliedLevel: r.string(0, 17), gapCount: r.int(0, 18) ?? 0, events: events)
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

/// A dead letter as `gridloopd dlq list` shows it (the message bytes are not printed).
public struct DeadLetterView: Codable, Sendable {
    public var id: Int64
    public var topic: String
    public var partition: Int
    public var offset: Int64
    public var reason: String
    public var caseId: String?
    public var createdAt: String
    public var bytes: Int
    /// When `dlq retry` re-drove it, and the offset it was published at (same topic and
    /// partition); nil if it has not been.
    public var retriedAt: String?
    public var retriedOffset: Int64?
    /// The dead letter this message re-drove (its `gridloop-retry-of` header): the message
    /// failed again.
    public var retryOf: Int64?
    /// When its bytes were redacted under `retention.deadLetterBytes` (`bytes` is then the
    /// original's length), and the original's SHA-256 (hex); nil while it holds its bytes.
    public var redactedAt: String?
    public var sha256: String?

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(topic, forKey: .topic)
        try c.encode(partition, forKey: .partition)
        try c.encode(offset, forKey: .offset)
        try c.encode(reason, forKey: .reason)
        try c.encode(caseId, forKey: .caseId)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(retriedAt, forKey: .retriedAt)
        try c.encode(retriedOffset, forKey: .retriedOffset)
        try c.encode(retryOf, forKey: .retryOf)
        try c.encode(redactedAt, forKey: .redactedAt)
        try c.encode(sha256, forKey: .sha256)
    }

    public static func list(limit: Int, from db: PostgresConnection) throws -> [DeadLetterView] {
        let r = try DeadLetterQueries.list(limit: limit, from: db)
        return (0..<r.count).map { i in
            DeadLetterView(
                id: r.int64(i, 0)!, topic: r.string(i, 1)!, partition: r.int(i, 2)!, offset: r.int64(i, 3)!,
                reason: r.string(i, 4)!, caseId: r.string(i, 5), createdAt: r.string(i, 6)!,
                bytes: r.int(i, 7) ?? 0, retriedAt: r.string(i, 8), retriedOffset: r.int64(i, 9),
                retryOf: r.string(i, 10).flatMap { Int64($0) }, redactedAt: r.string(i, 11), sha256: r.string(i, 12))
        }
    }

    public static func json(_ letters: [DeadLetterView]) throws -> String {
        try prettyJSON(letters)
    }

    public static func table(_ letters: [DeadLetterView]) -> String {
        guard !letters.isEmpty else { return "no dead letters" }
        var out = "\("ID".leftPad(6))  \("WHERE".rightPad(34))  REASON"
        for d in letters {
            var notes: [String] = []
            if let retryOf = d.retryOf { notes.append("failed again: re-drive of \(retryOf)") }
            if let at = d.retriedAt { notes.append("retried \(at) → @\(d.retriedOffset.map(String.init) ?? "?")") }
            if let at = d.redactedAt { notes.append("bytes redacted \(at), sha256 \(d.sha256?.prefix(16) ?? "?")…") }
            let note = notes.isEmpty ? "" : "  [\(notes.joined(separator: "; "))]"
            out += "\n\(String(d.id).leftPad(6))  \("\(d.topic)[\(d.partition)]@\(d.offset)".rightPad(34))  \(d.reason)\(note)"
        }
        return out
    }
}
