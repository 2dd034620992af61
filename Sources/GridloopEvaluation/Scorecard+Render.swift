import GridloopViews

// The scorecard as a terminal table (one block per level, ranked units first, the red and
// black lists marked) and as CSV (one line per unit and level, for a spreadsheet).
extension Scorecard {
    static func percent(_ x: Double?) -> String {
        guard let x else { return "-" }
        return "\((x * 1000).rounded() / 10)%"
    }

    static func score(_ x: Double?) -> String { x.map { "\($0)" } ?? "-" }

    public func text() -> String {
        let weighting = weights.sorted { $0.key < $1.key }.map { "\($0.key) \(Self.score($0.value))" }
            .joined(separator: ", ")
        var out =
            "Unit scorecard 评议: handlings that began \(from) to \(to) (Asia/Shanghai), as of \(asOf)\n"
            + "composite weights: \(weighting); ranked from \(minCases) handlings; red/black lists of \(listSize)\n"
            + "definitions: docs/SCORECARD.md"
        if units.isEmpty { return out + "\n\nno handlings in the period" }
        for level in Self.levelOrder + Set(units.map(\.level)).subtracting(Self.levelOrder).sorted() {
            let rows = units.filter { $0.level == level }
            guard !rows.isEmpty else { continue }
            out +=
                "\n\n\((Presentation.levelNames[level] ?? level).rightPad(44)) \("ASSIGNED".leftPad(8)) \("响应率".leftPad(7)) "
                + "\("及时率".leftPad(7)) \("超期".leftPad(5)) \("ESC".leftPad(4)) \("退单率".leftPad(7)) "
                + "\("解决率".leftPad(7)) \("满意率".leftPad(7)) \("重办率".leftPad(7)) \("SCORE".leftPad(7)) \("RANK".leftPad(5))"
            for r in rows {
                let unit = r.unitName.map { "\(r.unitCode) \($0)" } ?? r.unitCode
                let mark = r.list == "RED" ? "  红榜" : r.list == "BLACK" ? "  黑榜" : ""
                out +=
                    "\n\(unit.rightPad(44)) \(String(r.assigned).leftPad(8)) \(Self.percent(r.responseRate).leftPad(7)) "
                    + "\(Self.percent(r.onTimeRate).leftPad(7)) \(String(r.overdue).leftPad(5)) "
                    + "\(String(r.escalatedAway).leftPad(4)) \(Self.percent(r.returnRate).leftPad(7)) "
                    + "\(Self.percent(r.resolutionRate).leftPad(7)) \(Self.percent(r.satisfactionRate).leftPad(7)) "
                    + "\(Self.percent(r.reopenRate).leftPad(7)) \(Self.score(r.composite).leftPad(7)) "
                    + "\((r.rank.map(String.init) ?? "-").leftPad(5))\(mark)"
            }
            for c in channels where c.level == level {
                let r = c.figures
                let label = c.channel == "QRCODE" ? "  by channel: 码上反馈 QRCODE" : "  by channel: all others"
                out +=
                    "\n\(label.rightPad(44)) \(String(r.assigned).leftPad(8)) \(Self.percent(r.responseRate).leftPad(7)) "
                    + "\(Self.percent(r.onTimeRate).leftPad(7)) \(String(r.overdue).leftPad(5)) "
                    + "\(String(r.escalatedAway).leftPad(4)) \(Self.percent(r.returnRate).leftPad(7)) "
                    + "\(Self.percent(r.resolutionRate).leftPad(7)) \(Self.percent(r.satisfactionRate).leftPad(7)) "
                    + "\(Self.percent(r.reopenRate).leftPad(7)) \(Self.score(r.composite).leftPad(7))"
            }
        }
        return out
    }

    /// The columns of `csv()`, in order: the JSON keys of a unit row.
    static let csvColumns = [
        "level", "unitCode", "unitName", "assigned", "evaluated", "returned", "returnedElsewhere", "returnRate",
        "responded", "responseBase", "responseRate", "onTime", "onTimeBase", "onTimeRate", "overdue", "overdueRate",
        "escalatedAway", "resolved", "resolutionBase", "resolutionRate", "satisfied", "callbacks", "satisfactionRate",
        "reopened", "replies", "reopenRate", "composite", "rank", "list",
    ]

    /// RFC 4180: a header line, then one line per row; a field with a comma, quote or line break
    /// quoted; a missing figure empty.
    public func csv() -> String {
        func field(_ s: String?) -> String {
            guard let s else { return "" }
            if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return s
        }
        func d(_ x: Double?) -> String? { x.map { "\($0)" } }
        var lines = [Self.csvColumns.joined(separator: ",")]
        for r in units {
            let values: [String?] = [
                r.level, r.unitCode, r.unitName, "\(r.assigned)", "\(r.evaluated)", "\(r.returned)",
                "\(r.returnedElsewhere)", d(r.returnRate), "\(r.responded)", "\(r.responseBase)", d(r.responseRate),
                "\(r.onTime)", "\(r.onTimeBase)", d(r.onTimeRate), "\(r.overdue)", d(r.overdueRate), "\(r.escalatedAway)",
                "\(r.resolved)", "\(r.resolutionBase)", d(r.resolutionRate), "\(r.satisfied)", "\(r.callbacks)",
                d(r.satisfactionRate), "\(r.reopened)", "\(r.replies)", d(r.reopenRate), d(r.composite),
                r.rank.map { "\($0)" }, r.list,
            ]
            lines.append(values.map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
