// The 721 report as a terminal table and as a self-contained HTML page (inline CSS and SVG,
// nothing fetched): the kind of page a district leader puts on a slide.
extension Report721 {
    static func percent(_ x: Double) -> String {
        let p = (x * 1000).rounded() / 10
        return "\(p)%"
    }

    static let levelNames = ["ESTATE": "小区 estate", "COMMUNITY": "社区 community", "STREET": "街道 street", "DISTRICT": "区级 district",
                             "ESTATE+COMMUNITY": "小区+社区 estate+community"]

    public func text() -> String {
        var out = "721 report, cases resolved \(from) to \(to) (Asia/Shanghai): \(resolved)\n\n"
        out += "\("RESOLVED AT".rightPad(28)) \("ACTUAL".leftPad(8)) \("TARGET".leftPad(8))"
        for t in targets {
            let mark = t.tier == "ESTATE+COMMUNITY" ? (t.actual >= t.target ? "  met" : "  below") : (t.actual <= t.target ? "  met" : "  above")
            out += "\n\((Self.levelNames[t.tier] ?? t.tier).rightPad(28)) \(Self.percent(t.actual).leftPad(8)) \(Self.percent(t.target).leftPad(8))\(resolved > 0 ? mark : "")"
        }
        out += "\n\n\("LEVEL".rightPad(18)) \("RESOLVED".leftPad(9)) \("SHARE".leftPad(8)) \("HANDLED".leftPad(8)) \("OVERDUE".leftPad(8)) \("BREACH".leftPad(8))"
        for l in levels {
            out += "\n\((Self.levelNames[l.level] ?? l.level).rightPad(18)) \(String(l.resolved).leftPad(9)) \(Self.percent(l.share).leftPad(8)) "
                + "\(String(l.handled).leftPad(8)) \(String(l.breached).leftPad(8)) \(Self.percent(l.breachRate).leftPad(8))"
        }
        func table(_ title: String, _ rows: [GroupRow]) {
            out += "\n\n\(title.rightPad(30)) \("RESOLVED".leftPad(9)) \("EST+COM".leftPad(8)) \("STREET".leftPad(8)) \("DISTRICT".leftPad(8)) \("BREACH".leftPad(8))"
            for r in rows {
                let label = r.name.map { "\(r.code) \($0)" } ?? r.code
                out += "\n\(label.rightPad(30)) \(String(r.resolved).leftPad(9)) \(Self.percent(Self.ratio(r.estateCommunity, r.resolved)).leftPad(8)) "
                    + "\(Self.percent(Self.ratio(r.street, r.resolved)).leftPad(8)) \(Self.percent(Self.ratio(r.district, r.resolved)).leftPad(8)) "
                    + "\(Self.percent(r.breachRate).leftPad(8))"
            }
        }
        table("CATEGORY", categories)
        if let by { table(by.uppercased(), units) }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A bar chart of actual against target for the three tiers.
    func chart() -> String {
        let width = 640, height = 300, base = 250, top = 30
        let scale = Double(base - top)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"resolved at each level, actual against target\">"
        for tick in stride(from: 0, through: 100, by: 25) {
            let y = base - Int(Double(tick) / 100 * scale)
            svg += "<line x1=\"50\" x2=\"\(width - 10)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#ddd\"/>"
            svg += "<text x=\"42\" y=\"\(y + 4)\" text-anchor=\"end\" font-size=\"12\" fill=\"#666\">\(tick)%</text>"
        }
        for (i, t) in targets.enumerated() {
            let x = 80 + i * 190
            let actualH = Int(t.actual * scale), targetH = Int(t.target * scale)
            let good = t.tier == "ESTATE+COMMUNITY" ? t.actual >= t.target : t.actual <= t.target
            svg += "<rect x=\"\(x)\" y=\"\(base - targetH)\" width=\"60\" height=\"\(targetH)\" fill=\"#c9d6e8\"/>"
            svg += "<rect x=\"\(x + 66)\" y=\"\(base - actualH)\" width=\"60\" height=\"\(actualH)\" fill=\"\(good ? "#2e7d32" : "#c62828")\"/>"
            svg += "<text x=\"\(x + 30)\" y=\"\(base - targetH - 6)\" text-anchor=\"middle\" font-size=\"13\" fill=\"#333\">\(Self.percent(t.target))</text>"
            svg += "<text x=\"\(x + 96)\" y=\"\(base - actualH - 6)\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">\(Self.percent(t.actual))</text>"
            svg += "<text x=\"\(x + 63)\" y=\"\(base + 22)\" text-anchor=\"middle\" font-size=\"14\">\(Self.escape(Self.levelNames[t.tier] ?? t.tier))</text>"
        }
        svg += "<rect x=\"420\" y=\"4\" width=\"12\" height=\"12\" fill=\"#c9d6e8\"/><text x=\"436\" y=\"14\" font-size=\"12\">target 目标</text>"
        svg += "<rect x=\"510\" y=\"4\" width=\"12\" height=\"12\" fill=\"#2e7d32\"/><text x=\"526\" y=\"14\" font-size=\"12\">actual 实际</text>"
        return svg + "</svg>"
    }

    public func html(deployment: String) -> String {
        func rows(_ groups: [GroupRow]) -> String {
            groups.map { r in
                "<tr><td>\(Self.escape(r.name.map { "\(r.code) \($0)" } ?? r.code))</td><td>\(r.resolved)</td>"
                    + "<td>\(Self.percent(Self.ratio(r.estateCommunity, r.resolved)))</td><td>\(Self.percent(Self.ratio(r.street, r.resolved)))</td>"
                    + "<td>\(Self.percent(Self.ratio(r.district, r.resolved)))</td><td>\(Self.percent(r.breachRate))</td></tr>"
            }.joined(separator: "\n")
        }
        let head = "<tr><th></th><th>resolved 办结</th><th>estate+community</th><th>street</th><th>district</th><th>breach 超期率</th></tr>"
        let levelRows = levels.map { l in
            "<tr><td>\(Self.escape(Self.levelNames[l.level] ?? l.level))</td><td>\(l.resolved)</td><td>\(Self.percent(l.share))</td>"
                + "<td>\(l.handled)</td><td>\(l.breached)</td><td>\(Self.percent(l.breachRate))</td></tr>"
        }.joined(separator: "\n")
        var units = ""
        if let by {
            units = "<h2>By \(by) 按\(by == "street" ? "街道" : "社区")</h2><table>\(head)\n\(rows(self.units))</table>"
        }
        return """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <title>721 report \(Self.escape(from)) – \(Self.escape(to))</title>
            <style>
            body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:960px;color:#222}
            h1{font-size:1.6em;margin-bottom:.2em} .sub{color:#666;margin-top:0}
            table{border-collapse:collapse;width:100%;margin:1em 0} th,td{padding:.35em .6em;border-bottom:1px solid #e3e3e3;text-align:right}
            th:first-child,td:first-child{text-align:left} th{background:#f4f6f9;font-weight:600}
            .big{display:flex;gap:1em} .big div{flex:1;background:#f4f6f9;padding:.8em;border-radius:6px;text-align:center}
            .big b{display:block;font-size:2em}
            </style></head><body>
            <h1>四级闭环 721 — cases resolved at each level</h1>
            <p class="sub">\(Self.escape(deployment)) · resolved \(Self.escape(from)) to \(Self.escape(to)) (Asia/Shanghai) · \(resolved) cases</p>
            <div class="big">\(targets.map { "<div><b>\(Self.percent($0.actual))</b>\(Self.escape(Self.levelNames[$0.tier] ?? $0.tier)) · target \(Self.percent($0.target))</div>" }.joined())</div>
            \(chart())
            <h2>By level 按层级</h2>
            <table><tr><th></th><th>resolved 办结</th><th>share 占比</th><th>handled 经手</th><th>overdue 超期</th><th>breach 超期率</th></tr>
            \(levelRows)</table>
            <h2>By category 按类别</h2>
            <table>\(head)
            \(rows(categories))</table>
            \(units)
            <p class="sub">A case counts once, at its last resolution in the period, at the level that resolved it. Breach rate of a level: of the cases handled there (resolved there or escalated from it), the share that went overdue there. Generated by gridloopd report 721.</p>
            </body></html>
            """
    }
}
