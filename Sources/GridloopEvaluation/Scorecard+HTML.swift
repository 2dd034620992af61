import GridloopViews

// The scorecard as one self-contained page for a leader's slide: per level the ranking table,
// the red and black lists marked, each rate drawn as a small inline-SVG bar. Inline CSS and SVG,
// system fonts; nothing fetched (no script, no web font, no image).
extension Scorecard {
    /// A bar of `rate` (0...1) with its percentage; a dash when the rate has no figure.
    static func bar(_ rate: Double?, lowerIsBetter: Bool = false) -> String {
        guard let rate else { return "<span class=\"none\">–</span>" }
        let width = 48
        let filled = Int((min(max(rate, 0), 1) * Double(width)).rounded())
        let good = lowerIsBetter ? rate <= 0.1 : rate >= 0.9
        let poor = lowerIsBetter ? rate >= 0.3 : rate < 0.6
        let colour = good ? "#2e7d32" : poor ? "#c62828" : "#f9a825"
        return
            "<svg width=\"\(width)\" height=\"10\" role=\"img\" aria-label=\"\(percent(rate))\">"
            + "<rect width=\"\(width)\" height=\"10\" fill=\"#eceff1\"/><rect width=\"\(filled)\" height=\"10\" fill=\"\(colour)\"/>"
            + "</svg> \(percent(rate))"
    }

    /// A small line of a unit's composite over `trendMonths` (0 to 100, a dot per month with a
    /// figure, a break where a month has none), its values in the SVG's title.
    func sparkline(_ key: String) -> String {
        guard let values = trend[key], values.contains(where: { $0 != nil }) else { return "<span class=\"none\">–</span>" }
        let (w, h) = (96.0, 24.0)
        let step = values.count > 1 ? (w - 6) / Double(values.count - 1) : 0
        func point(_ i: Int, _ v: Double) -> String {
            let x = 3 + Double(i) * step
            let y = 3 + (h - 6) * (1 - min(max(v, 0), 100) / 100)
            return String(format: "%.1f,%.1f", x, y)
        }
        var segments: [[String]] = [[]]
        var dots = ""
        for (i, v) in values.enumerated() {
            guard let v else {
                if !(segments.last?.isEmpty ?? true) { segments.append([]) }
                continue
            }
            segments[segments.count - 1].append(point(i, v))
            let xy = point(i, v).split(separator: ",")
            dots += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"1.8\" fill=\"#1565c0\"/>"
        }
        let lines = segments.filter { $0.count > 1 }.map {
            "<polyline points=\"\($0.joined(separator: " "))\" fill=\"none\" stroke=\"#1565c0\" stroke-width=\"1.5\"/>"
        }.joined()
        let title = zip(trendMonths, values).map { "\($0) \($1.map { "\($0)" } ?? "–")" }.joined(separator: ", ")
        return
            "<svg class=\"trend\" width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"\(Presentation.escape(title))\">"
            + "<title>\(Presentation.escape(title))</title><rect width=\"\(Int(w))\" height=\"\(Int(h))\" fill=\"#f7f9fc\"/>"
            + "\(lines)\(dots)</svg>"
    }

    /// One page, nothing fetched.
    public func html(deployment: String) -> String {
        var sections = ""
        for level in Self.levelOrder + Set(units.map(\.level)).subtracting(Self.levelOrder).sorted() {
            let rows = units.filter { $0.level == level }
            guard !rows.isEmpty else { continue }
            let red = rows.filter { $0.list == "RED" }.map { Presentation.escape($0.unitName ?? $0.unitCode) }
            let black = rows.filter { $0.list == "BLACK" }.map { Presentation.escape($0.unitName ?? $0.unitCode) }
            sections += "<h2>\(Presentation.escape(Presentation.levelNames[level] ?? level))</h2>\n"
            sections +=
                "<p class=\"lists\"><span class=\"red\">红榜 \(red.isEmpty ? "–" : red.joined(separator: "、"))</span>"
                + "<span class=\"black\">黑榜 \(black.isEmpty ? "–" : black.joined(separator: "、"))</span></p>\n"
            sections +=
                "<table><tr><th>rank<br>排名</th><th>unit<br>承办单位</th><th>assigned<br>承办</th><th>response<br>响应率</th>"
                + "<th>on time<br>办结及时率</th><th>overdue<br>超期</th><th>return<br>退单率</th><th>resolution<br>解决率</th>"
                + "<th>satisfaction<br>满意率</th><th>reopen<br>重办率</th><th>score<br>综合</th>"
                + (trendMonths.isEmpty ? "" : "<th>\(trendMonths.count) months<br>趋势</th>") + "</tr>\n"
            for r in rows {
                let cls = r.list == "RED" ? " class=\"red\"" : r.list == "BLACK" ? " class=\"black\"" : ""
                let name =
                    r.unitName.map { "\(Presentation.escape($0)) <small>\(Presentation.escape(r.unitCode))</small>" }
                    ?? Presentation.escape(r.unitCode)
                let tag = r.list == "RED" ? " <b>红榜</b>" : r.list == "BLACK" ? " <b>黑榜</b>" : ""
                sections +=
                    "<tr\(cls)><td>\(r.rank.map(String.init) ?? "–")</td><td>\(name)\(tag)</td><td>\(r.assigned)</td>"
                    + "<td>\(Self.bar(r.responseRate))</td><td>\(Self.bar(r.onTimeRate))</td>"
                    + "<td>\(r.overdue) · \(Self.bar(r.overdueRate, lowerIsBetter: true))</td>"
                    + "<td>\(Self.bar(r.returnRate, lowerIsBetter: true))</td><td>\(Self.bar(r.resolutionRate))</td>"
                    + "<td>\(Self.bar(r.satisfactionRate))</td><td>\(Self.bar(r.reopenRate, lowerIsBetter: true))</td>"
                    + "<td class=\"score\">\(Self.score(r.composite))</td>"
                    + (trendMonths.isEmpty ? "" : "<td>\(sparkline("\(r.level)|\(r.unitCode)"))</td>") + "</tr>\n"
            }
            sections += "</table>\n"
            let byChannel = channels.filter { $0.level == level }
            if !byChannel.isEmpty {
                sections +=
                    "<table class=\"channels\"><tr><th>channel<br>渠道</th><th>assigned<br>承办</th><th>response<br>响应率</th>"
                    + "<th>on time<br>办结及时率</th><th>overdue<br>超期</th><th>resolution<br>解决率</th>"
                    + "<th>satisfaction<br>满意率</th><th>reopen<br>重办率</th><th>score<br>综合</th></tr>\n"
                for c in byChannel {
                    let r = c.figures
                    let label = c.channel == "QRCODE" ? "码上反馈 QR code" : "other channels 其他渠道"
                    sections +=
                        "<tr><td>\(label)</td><td>\(r.assigned)</td><td>\(Self.bar(r.responseRate))</td>"
                        + "<td>\(Self.bar(r.onTimeRate))</td><td>\(r.overdue) · \(Self.bar(r.overdueRate, lowerIsBetter: true))</td>"
                        + "<td>\(Self.bar(r.resolutionRate))</td><td>\(Self.bar(r.satisfactionRate))</td>"
                        + "<td>\(Self.bar(r.reopenRate, lowerIsBetter: true))</td><td class=\"score\">\(Self.score(r.composite))</td></tr>\n"
                }
                sections += "</table>\n"
            }
        }
        if sections.isEmpty { sections = "<p>No handlings in the period.</p>" }
        let weighting = weights.sorted { $0.key < $1.key }.map { "\($0.key) \(Self.score($0.value))" }
            .joined(separator: ", ")
        return """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <title>Unit scorecard \(Presentation.escape(from)) – \(Presentation.escape(to))</title>
            <style>
            body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:1.5em auto;max-width:1280px;padding:0 1em;color:#222;font-size:14px}
            h1{font-size:1.6em;margin-bottom:.2em} .sub{color:#666;margin-top:0}
            table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em} th,td{padding:.25em .4em;font-size:13px;border-bottom:1px solid #e3e3e3;text-align:left;white-space:nowrap}
            th{background:#f4f6f9;font-weight:600;white-space:normal;vertical-align:bottom} td.score{font-weight:bold;text-align:right} small{color:#888}
            tr.red{background:#e8f5e9} tr.black{background:#ffebee} tr.red b{color:#2e7d32} tr.black b{color:#c62828}
            table.channels{width:auto} svg.trend{vertical-align:middle}
            .lists span{margin-right:2em} .lists .red{color:#2e7d32} .lists .black{color:#c62828} .none{color:#aaa}
            </style></head><body>
            <h1>承办单位评议 — unit scorecard</h1>
            <p class="sub">\(Presentation.escape(deployment)) · handlings that began \(Presentation.escape(from)) to \(Presentation.escape(to)) (Asia/Shanghai) · as of \(Presentation.escape(asOf))</p>
            <p class="sub">Composite: 100 × weighted mean of the rates (\(Presentation.escape(weighting)); overdue, return and reopen as 1 − rate). Ranked from \(minCases) handlings; red and black lists of \(listSize) per level.</p>
            \(sections)
            <p class="sub">Withdrawn cases count for nobody; a return the platform redispatched elsewhere counts in the return rate only; suspended time does not count. Every figure is defined in docs/SCORECARD.md. Generated by gridloopd report scorecard.</p>
            </body></html>
            """
    }
}
