import GridloopCore
import GridloopViews

// The what-if as one self-contained page (inline CSS and SVG, nothing fetched): the two
// policies side by side, each figure's change, the breach rates as paired bars, a sample of
// the cases whose outcome differs, the self-consistency check, and what a replay cannot know.
extension WhatIf {
    /// Two bars, in force (grey) and candidate (blue), of rates 0...1.
    static func pair(_ a: Double?, _ b: Double?) -> String {
        let width = 120.0
        func bar(_ r: Double?, _ y: Int, _ colour: String) -> String {
            guard let r else { return "" }
            return
                "<rect x=\"0\" y=\"\(y)\" width=\"\(String(format: "%.1f", min(max(r, 0), 1) * width))\" height=\"7\" fill=\"\(colour)\"/>"
        }
        return "<svg class=\"pair\" width=\"\(Int(width))\" height=\"16\" role=\"img\">"
            + "<rect width=\"\(Int(width))\" height=\"16\" fill=\"#eceff1\"/>"
            + bar(a, 0, "#90a4ae") + bar(b, 9, "#1565c0") + "</svg>"
    }

    public func html(deployment: String) -> String {
        let e = Presentation.escape
        func pct(_ x: Double?) -> String { x.map { String(format: "%.1f%%", $0 * 100) } ?? "–" }
        func change(_ a: Int, _ b: Int) -> String {
            let d = b - a
            return d == 0 ? "=" : (d > 0 ? "+\(d)" : "\(d)")
        }
        var rows = ""
        func count(_ name: String, _ a: Int, _ b: Int) {
            rows += "<tr><th>\(e(name))</th><td>\(a)</td><td>\(b)</td><td class=\"d\">\(change(a, b))</td></tr>\n"
        }
        count("warnings 预警", inForce.warnings, candidate.warnings)
        count("overdue at the top 超期", inForce.overdue, candidate.overdue)
        count("escalations 升级", inForce.escalations, candidate.escalations)
        let steps = Set(
            inForce.escalationSteps.map { "\($0.from)>\($0.to)" } + candidate.escalationSteps.map { "\($0.from)>\($0.to)" })
        for s in steps.sorted(by: { a, b in
            let x = a.split(separator: ">")
            let y = b.split(separator: ">")
            return (LoopLevel(rawValue: String(x[0]))?.rank ?? 9, String(x[1])) < (
                LoopLevel(rawValue: String(y[0]))?.rank ?? 9, String(y[1])
            )
        }) {
            let n = { (t: Tally) in t.escalationSteps.first { "\($0.from)>\($0.to)" == s }?.count ?? 0 }
            count("  " + s.replacingOccurrences(of: ">", with: " → "), n(inForce), n(candidate))
        }
        count("urges 催办", inForce.urges, candidate.urges)
        count("resolved 办结", inForce.resolved, candidate.resolved)
        var shares = ""
        for k in ["ESTATE+COMMUNITY", "STREET", "DISTRICT"] {
            shares +=
                "<tr><th>resolved at \(e(Presentation.levelName(k)))</th><td>\(pct(inForce.shares721[k]))</td>"
                + "<td>\(pct(candidate.shares721[k]))</td><td>\(Self.pair(inForce.shares721[k], candidate.shares721[k]))</td></tr>\n"
        }
        var breaches = ""
        for (x, y) in zip(inForce.breachByLevel, candidate.breachByLevel) where x.handled > 0 || y.handled > 0 {
            breaches +=
                "<tr><th>\(e(Presentation.levelName(x.level)))</th><td>\(pct(x.rate))</td><td>\(pct(y.rate))</td>"
                + "<td>\(Self.pair(x.rate, y.rate))</td></tr>\n"
        }
        for (x, y) in zip(inForce.breachByCategory, candidate.breachByCategory) {
            breaches +=
                "<tr class=\"cat\"><th>\(e(x.category))</th><td>\(pct(x.rate))</td><td>\(pct(y.rate))</td>"
                + "<td>\(Self.pair(x.rate, y.rate))</td></tr>\n"
        }
        var diff = ""
        for d in differences.prefix(30) {
            diff += "<tr class=\"diff\"><td>\(e(d.caseId))</td><td>\(e(d.inForce))</td><td>\(e(d.candidate))</td></tr>\n"
        }
        let exact = consistency.missing == 0 && consistency.extra == 0
        return """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <title>What if: \(e(candidate.source)) on \(e(from)) to \(e(to))</title>
            <style>
            body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 24px; color: #263238; }
            h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 20px 0 6px; }
            p.sub { color: #607d8b; margin: 0 0 12px; font-size: 13px; }
            table { border-collapse: collapse; font-size: 13px; margin-bottom: 8px; }
            th, td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eceff1; }
            th { text-align: left; font-weight: normal; white-space: pre; }
            thead th { font-weight: bold; text-align: right; } thead th:first-child { text-align: left; }
            td.d { color: #1565c0; font-weight: bold; } tr.cat th { color: #546e7a; }
            tr.diff td { text-align: left; }
            .legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; }
            .note { color: #607d8b; font-size: 12px; max-width: 820px; }
            .ok { color: #2e7d32; } .bad { color: #c62828; }
            </style></head><body>
            <h1>What if: \(e(candidate.source))</h1>
            <p class="sub">\(cases) cases dispatched \(e(from)) to \(e(to)) (\(events) events), replayed to \(e(until)) · \
            \(e(deployment)) · in force \(e(inForce.version)), candidate \(e(candidate.version))</p>
            <table><thead><tr><th></th><th>in force</th><th>candidate</th><th>change</th></tr></thead><tbody>
            \(rows)</tbody></table>
            <h2>7-2-1 and breach rates</h2>
            <p class="legend"><span style="background:#90a4ae"></span>in force<span style="background:#1565c0"></span>candidate</p>
            <table><thead><tr><th></th><th>in force</th><th>candidate</th><th></th></tr></thead><tbody>
            \(shares)\(breaches)</tbody></table>
            <h2>\(differing) cases whose outcome differs\(differing > 30 ? " (the first 30; all with --json)" : "")</h2>
            <table><thead><tr><th>case</th><th>in force</th><th>candidate</th></tr></thead><tbody>
            \(diff)</tbody></table>
            <h2>Self-consistency</h2>
            <p class="\(exact ? "ok" : "bad")">The replay under the policy in force gave back \(consistency.reproduced) of the \
            \(consistency.stored) decisions stored (same id, type and instant); \(consistency.missing) not, \
            \(consistency.extra) more.</p>
            <p class="note">\(e(caveat))</p>
            </body></html>

            """
    }
}
