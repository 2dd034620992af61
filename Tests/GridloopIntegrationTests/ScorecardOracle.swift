import Foundation
import GridloopCore
import XCTest

/// The scorecard a test expects, recomputed from the `gridloopd case show --json` output of every
/// case by the definitions of docs/SCORECARD.md, written out again here in plain Swift (one case
/// at a time, no SQL): the timeline, the handlings, the replies and their aftermath, the counts,
/// the rates, the composite, the ranks and the lists.
struct ScorecardOracle {
    /// The figures of one unit at one level, by the report's JSON keys.
    struct Row {
        var counts: [String: Int] = [:]
        var rates: [String: Double?] = [:]
        var composite: Double?
        var rank: Int?
        var list: String?
    }
    /// By `LEVEL|UNITCODE`.
    var rows: [String: Row] = [:]
    /// By `LEVEL|QRCODE` and `LEVEL|OTHER` (the case's `channel`; a 12319 case has none).
    var channels: [String: Row] = [:]
    /// Handlings counted, and how many of them were escalations, accepted returns, reopened replies...
    var handlings = 0
    var tally: [String: Int] = [:]

    private struct Entry {
        var t: Int64
        var r: Int
        var n: Int
        var id: String
        var type: String
        var level: String?
        var unit: String?
        var result: String?
        var satisfaction: String?
        /// Overdue: SIGN or HANDLE; escalation: SIGN, HANDLE or reopened.
        var clock: String?
    }

    private struct Handling {
        var start: Int
        var end: Int  // exclusive index into the timeline
        var level: String
        var unit: String
    }

    init(
        cases: [[String: Any]], from: String, to: String, weights: [String: Double], minCases: Int, listSize: Int
    ) throws {
        let lo = try XCTUnwrap(RFC3339.parse("\(from)T00:00:00+08:00"))
        let hi = try XCTUnwrap(RFC3339.parse("\(to)T00:00:00+08:00")) + 86_400_000
        for c in cases {
            let events = c["events"] as? [[String: Any]] ?? []
            if events.contains(where: { $0["type"] as? String == "WITHDRAW" }) { continue }
            var timeline: [Entry] = []
            for e in events {
                timeline.append(
                    Entry(
                        t: try XCTUnwrap(RFC3339.parse(e["eventTime"] as? String ?? "")), r: 0, n: e["eventNo"] as? Int ?? 0,
                        id: "", type: e["type"] as? String ?? "", level: e["level"] as? String,
                        unit: e["unitCode"] as? String, result: e["result"] as? String,
                        satisfaction: e["satisfaction"] as? String))
            }
            for d in c["emitted"] as? [[String: Any]] ?? [] {
                let id = d["id"] as? String ?? ""
                let parts = id.split(separator: "/").map(String.init)
                let clock = parts.count >= 2 ? parts[parts.count - 2] : nil
                let time = try XCTUnwrap(RFC3339.parse(d["time"] as? String ?? ""))
                switch d["type"] as? String {
                case "gridloop.case.supervision.overdue":
                    timeline.append(Entry(t: time, r: 1, n: 0, id: id, type: "OVERDUE", clock: clock))
                case "gridloop.case.escalated":
                    let toUnit = (d["toUnit"] as? String)?.split(separator: " ").first.map(String.init)
                    timeline.append(
                        Entry(
                            t: time, r: 2, n: 0, id: id, type: "ESCALATED", level: d["toLevel"] as? String, unit: toUnit,
                            clock: clock))
                default: break
                }
            }
            timeline.sort { a, b in
                a.t != b.t ? a.t < b.t : a.r != b.r ? a.r < b.r : a.n != b.n ? a.n < b.n : a.id < b.id
            }
            add(
                timeline, closed: c["status"] as? String == "CLOSED", qr: c["channel"] as? String == "QRCODE", lo: lo, hi: hi)
        }
        finish(weights: weights, minCases: minCases, listSize: listSize)
    }

    private mutating func add(_ tl: [Entry], closed: Bool, qr: Bool, lo: Int64, hi: Int64) {
        let starts = tl.indices.filter { ["DISPATCH", "REDISPATCH", "ESCALATED"].contains(tl[$0].type) }
        var hs: [Handling] = []
        for (k, s) in starts.enumerated() {
            hs.append(
                Handling(
                    start: s, end: k + 1 < starts.count ? starts[k + 1] : tl.count, level: tl[s].level ?? "?",
                    unit: tl[s].unit ?? "(unknown)"))
        }
        func handling(of index: Int) -> Int? { hs.lastIndex { $0.start <= index } }
        // Each reply: its handling, result, reopened, callbacks that reached the citizen.
        let replyAt = tl.indices.filter { tl[$0].type == "REPLY" }
        struct Reply {
            var handling: Int?
            var result: String?
            var reopened = false
            var callbacks: [String] = []
        }
        var replies: [Reply] = []
        for (k, i) in replyAt.enumerated() {
            let end = k + 1 < replyAt.count ? replyAt[k + 1] : tl.count
            var r = Reply(handling: handling(of: i), result: tl[i].result)
            for e in tl[i..<end] {
                if e.type == "REOPEN" || (e.type == "VISIT" && e.satisfaction == "UNSATISFIED") { r.reopened = true }
                if e.type == "VISIT", let s = e.satisfaction, s != "UNREACHABLE" { r.callbacks.append(s) }
            }
            replies.append(r)
        }
        for (k, h) in hs.enumerated() {
            guard tl[h.start].t >= lo, tl[h.start].t < hi else { continue }
            let inside = tl[(h.start + 1)..<h.end]
            let signed = inside.contains { $0.type == "SIGN" }
            let replied = inside.contains { $0.type == "REPLY" }
            let returned = inside.contains { $0.type == "RETURN" }
            let signOverdue = inside.contains { $0.type == "OVERDUE" && $0.clock == "SIGN" }
            let handleOverdue = inside.contains { $0.type == "OVERDUE" && $0.clock == "HANDLE" }
            let next = k + 1 < hs.count ? tl[hs[k + 1].start] : nil
            let ended = next != nil || closed
            let accepted = returned && next?.type == "REDISPATCH" && next?.unit != h.unit
            let away = next?.type == "ESCALATED" && (next?.clock == "SIGN" || next?.clock == "HANDLE")
            let evaluated = !accepted
            let mine = replies.filter { $0.handling == k }
            let last = mine.last
            let lastCallback = last?.callbacks.last
            let satisfiedSet: Set<String> = ["SATISFIED", "BASICALLY_SATISFIED"]
            var counts: [String: Int] = [
                "assigned": 1, "evaluated": evaluated ? 1 : 0, "returned": returned ? 1 : 0,
                "returnedElsewhere": accepted ? 1 : 0,
                "responded": evaluated && signed && !signOverdue ? 1 : 0,
                "responseBase": evaluated && (signed || signOverdue || ended) ? 1 : 0,
                "onTime": evaluated && replied && !handleOverdue ? 1 : 0,
                "onTimeBase": evaluated && (replied || handleOverdue || ended) ? 1 : 0,
                "overdue": evaluated && (signOverdue || handleOverdue) ? 1 : 0,
                "escalatedAway": away ? 1 : 0,
                "resolutionBase": lastCallback != nil ? 1 : 0,
                "resolved": last?.result == "RESOLVED" && satisfiedSet.contains(lastCallback ?? "") ? 1 : 0,
                "callbacks": mine.map(\.callbacks.count).reduce(0, +),
                "satisfied": mine.map { $0.callbacks.filter(satisfiedSet.contains).count }.reduce(0, +),
                "replies": mine.count, "reopened": mine.filter(\.reopened).count,
            ]
            handlings += 1
            if tl[h.start].type == "ESCALATED" { counts["(escalatedTo)"] = 1 }
            for (key, v) in counts { tally[key, default: 0] += v }
            counts["(escalatedTo)"] = nil
            let key = "\(h.level)|\(h.unit)"
            var row = rows[key] ?? Row()
            for (name, v) in counts { row.counts[name, default: 0] += v }
            rows[key] = row
            let byChannel = "\(h.level)|\(qr ? "QRCODE" : "OTHER")"
            var channelRow = channels[byChannel] ?? Row()
            for (name, v) in counts { channelRow.counts[name, default: 0] += v }
            channels[byChannel] = channelRow
        }
    }

    private mutating func finish(weights: [String: Double], minCases: Int, listSize: Int) {
        let pairs: [(rate: String, num: String, den: String, lowerIsBetter: Bool, weight: String)] = [
            ("returnRate", "returned", "assigned", true, "return"),
            ("responseRate", "responded", "responseBase", false, "response"),
            ("onTimeRate", "onTime", "onTimeBase", false, "onTime"), ("overdueRate", "overdue", "evaluated", true, "overdue"),
            ("resolutionRate", "resolved", "resolutionBase", false, "resolution"),
            ("satisfactionRate", "satisfied", "callbacks", false, "satisfaction"),
            ("reopenRate", "reopened", "replies", true, "reopen"),
        ]
        func rated(_ row: Row) -> Row {
            var row = row
            var sum = 0.0
            var total = 0.0
            for p in pairs {
                let den = row.counts[p.den] ?? 0
                let exact = den == 0 ? nil : Double(row.counts[p.num] ?? 0) / Double(den)
                row.rates[p.rate] = exact.map { ($0 * 10000).rounded() / 10000 }
                if let exact, let w = weights[p.weight], w > 0 {
                    sum += w * (p.lowerIsBetter ? 1 - exact : exact)
                    total += w
                }
            }
            row.composite = total > 0 ? (100 * sum / total * 100).rounded() / 100 : nil
            return row
        }
        rows = rows.mapValues(rated)
        channels = channels.mapValues(rated)
        for level in Set(rows.keys.map { String($0.split(separator: "|")[0]) }) {
            let ranked = rows.filter {
                $0.key.hasPrefix(level + "|") && ($0.value.counts["assigned"] ?? 0) >= minCases && $0.value.composite != nil
            }
            let scores = ranked.map { $0.value.composite! }
            for (key, row) in ranked {
                let rank = 1 + scores.filter { $0 > row.composite! }.count
                let fromBottom = 1 + scores.filter { $0 < row.composite! }.count
                rows[key]!.rank = rank
                rows[key]!.list = rank <= listSize ? "RED" : fromBottom <= listSize ? "BLACK" : nil
            }
        }
    }

    /// Every row of the report equals the oracle's, and the report has no other row (of the
    /// rows whose `LEVEL|UNIT` key starts with `only`).
    func check(_ report: [String: Any], only: String = "", file: StaticString = #filePath, line: UInt = #line) {
        let units = report["units"] as? [[String: Any]] ?? []
        var seen: Set<String> = []
        for u in units {
            let key = "\(u["level"] as? String ?? "")|\(u["unitCode"] as? String ?? "")"
            seen.insert(key)
            guard let row = rows[key] else {
                XCTFail("the report has \(key), the oracle has no handling there: \(u)", file: file, line: line)
                continue
            }
            checkFigures(u, row, key, file: file, line: line)
            XCTAssertEqual(u["rank"] as? Int, row.rank, "\(key) rank", file: file, line: line)
            XCTAssertEqual(u["list"] as? String, row.list, "\(key) list", file: file, line: line)
        }
        XCTAssertEqual(seen, Set(rows.keys.filter { $0.hasPrefix(only) }), "the same units and levels", file: file, line: line)
        // By channel: the same figures over the level's handlings of QRCODE cases and of the others.
        var seenChannels: Set<String> = []
        for c in report["channels"] as? [[String: Any]] ?? [] {
            let key = "\(c["level"] as? String ?? "")|\(c["channel"] as? String ?? "")"
            seenChannels.insert(key)
            guard let row = channels[key] else {
                XCTFail("the report has channel row \(key), the oracle has no handling there", file: file, line: line)
                continue
            }
            checkFigures(c, row, key, file: file, line: line)
        }
        XCTAssertEqual(
            seenChannels, Set(channels.keys.filter { $0.hasPrefix(only) }), "the same levels and channels", file: file,
            line: line)
    }

    /// The counts, rates and composite of one row of the report.
    func checkFigures(_ u: [String: Any], _ row: Row, _ key: String, file: StaticString, line: UInt) {
        for (name, v) in row.counts {
            XCTAssertEqual(u[name] as? Int, v, "\(key) \(name)", file: file, line: line)
        }
        for (name, v) in row.rates {
            if let v {
                XCTAssertEqual(u[name] as? Double ?? -1, v, accuracy: 1e-9, "\(key) \(name)", file: file, line: line)
            } else {
                XCTAssertTrue(
                    u[name] is NSNull, "\(key) \(name): no base, no figure; got \(u[name] ?? "missing")", file: file, line: line)
            }
        }
        if let c = row.composite {
            XCTAssertEqual(u["composite"] as? Double ?? -1, c, accuracy: 1e-9, "\(key) composite", file: file, line: line)
        } else {
            XCTAssertTrue(u["composite"] is NSNull, "\(key) composite", file: file, line: line)
        }
    }
}
