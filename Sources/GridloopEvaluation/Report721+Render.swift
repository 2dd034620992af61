import GridloopViews

// The 721 report as a terminal table and as a self-contained HTML page (inline CSS and SVG,
// nothing fetched: no script, no web font, no image): the kind of page a district leader puts
// on a slide.
extension Report721 {
    static func percent(_ x: Double) -> String {
        let p = (x * 1000).rounded() / 10
        return "\(p)%"
    }

    var clocksNote: String? {
        guard resolved > 0, withClocks < resolved else { return nil }
        return "\(resolved - withClocks) of the \(resolved) cases had no SLA clocks (sla.enabled: false while they ran?): "
            + "they cannot have gone overdue, so the breach rates understate"
    }

    public func text() -> String {
        var out =
            "721 report: \(resolved) cases closed \(from) to \(to) (Asia/Shanghai), "
            + "\(breached) of them went overdue (\(Self.percent(breachRate)))\n\n"
        out += "\("RESOLVED AT".rightPad(28)) \("CASES".leftPad(7)) \("ACTUAL".leftPad(8)) \("TARGET".leftPad(8))"
        for t in targets {
            let mark = resolved == 0 ? "" : t.met ? "  met" : t.tier == "ESTATE+COMMUNITY" ? "  below target" : "  above target"
            out +=
                "\n\(Presentation.levelName(t.tier).rightPad(28)) \(String(t.resolved).leftPad(7)) \(Self.percent(t.actual).leftPad(8)) "
                + "\(Self.percent(t.target).leftPad(8))\(mark)"
        }
        out +=
            "\n\n\("LEVEL".rightPad(18)) \("RESOLVED".leftPad(9)) \("SHARE".leftPad(8)) \("HANDLED".leftPad(8)) "
            + "\("OVERDUE".leftPad(8)) \("BREACH".leftPad(8))"
        for l in levels {
            out +=
                "\n\(Presentation.levelName(l.level).rightPad(18)) \(String(l.resolved).leftPad(9)) \(Self.percent(l.share).leftPad(8)) "
                + "\(String(l.handled).leftPad(8)) \(String(l.breached).leftPad(8)) \(Self.percent(l.breachRate).leftPad(8))"
        }
        func table(_ title: String, _ rows: [GroupRow]) {
            out +=
                "\n\n\(title.rightPad(30)) \("RESOLVED".leftPad(9)) \("EST+COM".leftPad(8)) \("STREET".leftPad(8)) "
                + "\("DISTRICT".leftPad(8)) \("BREACH".leftPad(8))"
            for r in rows {
                out +=
                    "\n\(r.label.rightPad(30)) \(String(r.resolved).leftPad(9)) \(Self.percent(r.estateCommunityShare).leftPad(8)) "
                    + "\(Self.percent(Self.ratio(r.street, r.resolved)).leftPad(8)) "
                    + "\(Self.percent(Self.ratio(r.district, r.resolved)).leftPad(8)) \(Self.percent(r.breachRate).leftPad(8))"
            }
        }
        table("CATEGORY", categories)
        if let by { table(by.uppercased(), units) }
        if let clocksNote { out += "\n\nnote: \(clocksNote)" }
        return out
    }

    /// A bar chart of actual against target for the three tiers (the axis goes to 100%).
    func chart() -> String {
        let width = 640
        let height = 300
        let base = 250
        let top = 30
        let scale = Double(base - top)
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" "
            + "aria-label=\"resolved at each level, actual against target\">"
        for tick in stride(from: 0, through: 100, by: 25) {
            let y = base - Int(Double(tick) / 100 * scale)
            svg += "<line x1=\"50\" x2=\"\(width - 10)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#ddd\"/>"
            svg += "<text x=\"42\" y=\"\(y + 4)\" text-anchor=\"end\" font-size=\"12\" fill=\"#666\">\(tick)%</text>"
        }
        for (i, t) in targets.enumerated() {
            let x = 80 + i * 190
            let actualH = Int(t.actual * scale)
            let targetH = Int(t.target * scale)
            svg += "<rect x=\"\(x)\" y=\"\(base - targetH)\" width=\"60\" height=\"\(targetH)\" fill=\"#c9d6e8\"/>"
            svg +=
                "<rect x=\"\(x + 66)\" y=\"\(base - actualH)\" width=\"60\" height=\"\(actualH)\" "
                + "fill=\"\(resolved == 0 ? "#999" : t.met ? "#2e7d32" : "#c62828")\"/>"
            svg +=
                "<text x=\"\(x + 30)\" y=\"\(base - targetH - 6)\" text-anchor=\"middle\" font-size=\"13\" fill=\"#333\">"
                + "\(Self.percent(t.target))</text>"
            svg +=
                "<text x=\"\(x + 96)\" y=\"\(base - actualH - 6)\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">"
                + "\(Self.percent(t.actual))</text>"
            svg +=
                "<text x=\"\(x + 63)\" y=\"\(base + 22)\" text-anchor=\"middle\" font-size=\"14\">\(Presentation.escape(Presentation.levelName(t.tier)))</text>"
        }
        svg +=
            "<rect x=\"420\" y=\"4\" width=\"12\" height=\"12\" fill=\"#c9d6e8\"/><text x=\"436\" y=\"14\" font-size=\"12\">target 目标</text>"
        svg +=
            "<rect x=\"510\" y=\"4\" width=\"12\" height=\"12\" fill=\"#2e7d32\"/><text x=\"526\" y=\"14\" font-size=\"12\">actual 实际</text>"
        return svg + "</svg>"
    }

    /// One page, nothing fetched: inline CSS, the chart as inline SVG, system fonts only.
    public func html(deployment: String) -> String {
        func rows(_ groups: [GroupRow]) -> String {
            groups.map { r in
                "<tr><td>\(Presentation.escape(r.label))</td><td>\(r.resolved)</td><td>\(Self.percent(r.estateCommunityShare))</td>"
                    + "<td>\(Self.percent(Self.ratio(r.street, r.resolved)))</td><td>\(Self.percent(Self.ratio(r.district, r.resolved)))</td>"
                    + "<td>\(Self.percent(r.breachRate))</td></tr>"
            }.joined(separator: "\n")
        }
        let head =
            "<tr><th></th><th>resolved 办结</th><th>estate+community</th><th>street</th><th>district</th><th>breach 超期率</th></tr>"
        let levelRows = levels.map { l in
            "<tr><td>\(Presentation.escape(Presentation.levelName(l.level)))</td><td>\(l.resolved)</td><td>\(Self.percent(l.share))</td>"
                + "<td>\(l.handled)</td><td>\(l.breached)</td><td>\(Self.percent(l.breachRate))</td></tr>"
        }.joined(separator: "\n")
        var units = ""
        if let by {
            units = "<h2>By \(by) 按\(by == "street" ? "街道" : "社区")</h2><table>\(head)\n\(rows(self.units))</table>"
        }
        let cards = targets.map {
            "<div class=\"\(resolved == 0 ? "" : $0.met ? "ok" : "bad")\"><b>\(Self.percent($0.actual))</b>"
                + "\(Presentation.escape(Presentation.levelName($0.tier))) · target \(Self.percent($0.target))</div>"
        }.joined()
        return """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <title>721 report \(Presentation.escape(from)) – \(Presentation.escape(to))</title>
            <style>
            body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:960px;color:#222}
            h1{font-size:1.6em;margin-bottom:.2em} .sub{color:#666;margin-top:0}
            table{border-collapse:collapse;width:100%;margin:1em 0} th,td{padding:.35em .6em;border-bottom:1px solid #e3e3e3;text-align:right}
            th:first-child,td:first-child{text-align:left} th{background:#f4f6f9;font-weight:600}
            .big{display:flex;gap:1em} .big div{flex:1;background:#f4f6f9;padding:.8em;border-radius:6px;text-align:center}
            .big b{display:block;font-size:2em} .big .ok b{color:#2e7d32} .big .bad b{color:#c62828}
            </style></head><body>
            <h1>四级闭环 721 — cases resolved at each level</h1>
            <p class="sub">\(Presentation.escape(deployment)) · closed \(Presentation.escape(from)) to \(Presentation.escape(to)) (Asia/Shanghai) · \(resolved) cases · \(breached) went overdue (\(Self.percent(breachRate)))</p>
            <div class="big">\(cards)</div>
            \(chart())
            <h2>By level 按层级</h2>
            <table><tr><th></th><th>resolved 办结</th><th>share 占比</th><th>handled 经手</th><th>overdue 超期</th><th>breach 超期率</th></tr>
            \(levelRows)</table>
            <h2>By category 按类别</h2>
            <table>\(head)
            \(rows(categories))</table>
            \(units)
            \(clocksNote.map { "<p class=\"sub\">Note: \(Presentation.escape($0)).</p>" } ?? "")
            <p class="sub">A case counts once, when closed (callback after the reply), at the level of its last reply. \
            Withdrawn cases and cases reopened and not closed again are not counted. Breach rate of a level: of the \
            cases handled there, the share that went overdue there. Generated by gridloopd report 721.</p>
            </body></html>
            """
    }
}

extension Report721.GroupRow {
    /// What a table shows: the code and, when known, the office's name.
    var label: String { name.map { "\(key) \($0)" } ?? key }
}
