import Foundation
import GridloopStore

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

    public static func list(limit: Int, from db: Database) throws -> [DeadLetterView] {
        try DeadLetterQueries.list(limit: limit, from: db).map { r in
            DeadLetterView(
                id: r.id, topic: r.source.topic, partition: Int(r.source.partition), offset: r.source.offset,
                reason: r.reason, caseId: r.caseId, createdAt: r.createdAt, bytes: r.bytes, retriedAt: r.retriedAt,
                retriedOffset: r.retriedOffset, retryOf: r.retryOf, redactedAt: r.redactedAt, sha256: r.sha256)
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
