import GridloopStore

// `gridloopd gaps list`: the gaps GridloopStore reads, as JSON or a table.
extension IntakeGapView {
    public static func json(_ gaps: [IntakeGap]) throws -> String { try prettyJSON(gaps) }

    public static func table(_ gaps: [IntakeGap]) -> String {
        guard !gaps.isEmpty else { return "no intake gaps recorded" }
        var out =
            "\("ID".leftPad(6))  \("PARTITION".rightPad(30)) \("FROM".leftPad(10)) \("TO".leftPad(10)) \("LOST".leftPad(8))  DETECTED AT                ACKNOWLEDGED"
        for g in gaps {
            let ack = g.acknowledgedAt.map { "\($0) by \(g.acknowledgedBy ?? "?")" } ?? "NO (gridloopd gaps ack \(g.id))"
            out +=
                "\n\(String(g.id).leftPad(6))  \("\(g.topic)[\(g.partition)]".rightPad(30)) \(String(g.fromOffset).leftPad(10)) "
                + "\(String(g.toOffset).leftPad(10)) \((g.messagesLost.map(String.init) ?? "?").leftPad(8))  "
                + "\((g.detectedAt ?? "?").rightPad(25))  \(ack)"
        }
        return out
    }
}
