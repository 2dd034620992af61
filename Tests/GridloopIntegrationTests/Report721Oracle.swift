import Foundation
import XCTest

/// The 721 figures a test expects, counted from the feed it produced (the definition in docs/OPERATIONS.md:
/// cases closed in the period, each once, at the level of its last REPLY), never from the
/// database. Built case by case (`add`), or from generated feed lines with Foundation's JSON
/// parser and the contracts' event names.
struct Report721Oracle {
    struct Counted {
        var resolvedAt: String
        var handled: Set<String>
        var overdue: Set<String>
        var category: String
        var street: String
        var community: String
    }
    var cases: [Counted] = []
    var resolved: Int { cases.count }
    static let levels = ["ESTATE", "COMMUNITY", "STREET", "DISTRICT"]

    init() {}

    mutating func add(
        resolvedAt: String, handled: [String], overdue: [String], category: String, street: String, community: String
    ) {
        cases.append(
            Counted(
                resolvedAt: resolvedAt, handled: Set(handled), overdue: Set(overdue), category: category, street: street,
                community: community))
    }

    /// Walks each case of the feeds through the contracts' events: its level (DISPATCH and
    /// REDISPATCH, 12319 `new` and `transfer` with `dept_tier`), the level of its last REPLY, and
    /// whether a callback other than UNSATISFIED closed it after that reply (REOPEN undoes it,
    /// WITHDRAW ends it uncounted). Resends (same 12345 `msgId`, same 12319 `event_seq`) count
    /// once. Closed when the closing callback's Asia/Shanghai date is in [from, to].
    init(feed12345: [(key: [UInt8]?, value: [UInt8])], feed12319: [(key: [UInt8]?, value: [UInt8])], from: String, to: String) {
        struct Walk {
            var level = "", category = "", street = "(none)", community = "(none)"
            var handled: Set<String> = []
            var repliedAt: String?
            var status = "OPEN"
            var closedDay: String?
        }
        var walks: [String: Walk] = [:]
        var order: [String] = []
        var seen: Set<String> = []
        func step(_ id: String, _ type: String, time: String, level: String?, satisfied: Bool?, _ dispatch: (inout Walk) -> Void)
        {
            var w = walks[id] ?? Walk()
            if walks[id] == nil { order.append(id) }
            switch type {
            case "DISPATCH", "REDISPATCH":
                if type == "DISPATCH" { dispatch(&w) }
                if let level {
                    w.level = level
                    w.handled.insert(level)
                }
                w.status = "OPEN"
            case "REPLY":
                w.status = "REPLIED"
                w.repliedAt = w.level
            case "VISIT":
                if satisfied == true, w.status == "REPLIED" {
                    w.status = "CLOSED"
                    w.closedDay = String(time.prefix(10))
                }
            case "REOPEN":
                w.status = "REOPENED"
                w.closedDay = nil
            case "WITHDRAW":
                w.status = "WITHDRAWN"
            default:
                if type == "SIGN" { w.status = "SIGNED" }
            }
            walks[id] = w
        }
        for line in feed12345 {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.value)) as? [String: Any],
                let msgId = o["msgId"] as? String, let type = o["msgType"] as? String, let ord = o["order"] as? [String: Any],
                let no = ord["orderNo"] as? String, seen.insert("12345/\(msgId)").inserted
            else { continue }
            let time = (type == "DISPATCH" ? ord["acceptTime"] : ord["time"]) as? String ?? ""
            let level = (ord["assignee"] as? [String: Any])?["level"] as? String
            let satisfaction = ord["satisfaction"] as? String
            step("12345:\(no)", type, time: time, level: level, satisfied: satisfaction.map { $0 != "UNSATISFIED" }) { w in
                w.category = (ord["category"] as? [String: Any])?["name"] as? String ?? ""
                let location = ord["location"] as? [String: Any]
                w.street = location?["streetCode"] as? String ?? "(none)"
                w.community = location?["communityCode"] as? String ?? "(none)"
            }
        }
        let types12319 = [
            "new": "DISPATCH", "transfer": "REDISPATCH", "accept": "SIGN", "back": "RETURN", "finish": "REPLY",
            "delay": "EXTEND_APPROVE", "hang": "SUSPEND", "unhang": "RESUME", "feedback": "VISIT", "redo": "REOPEN",
            "cancel": "WITHDRAW",
        ]
        let tiers = ["小区": "ESTATE", "社区": "COMMUNITY", "街道": "STREET", "区级": "DISTRICT"]
        for line in feed12319 {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.value)) as? [String: Any],
                let id = o["case_id"] as? String, let event = o["event"] as? String, let seq = o["event_seq"] as? Int,
                let type = types12319[event], seen.insert("12319/\(id)#\(seq)").inserted
            else { continue }
            let satisfaction = o["satisfaction"] as? String
            step(
                "12319:\(id)", type, time: o["event_time"] as? String ?? "",
                level: (o["dept_tier"] as? String).flatMap { tiers[$0] },
                satisfied: satisfaction.map { $0 != "不满意" }
            ) { w in
                w.category = o["case_type"] as? String ?? ""
                w.street = o["street"] as? String ?? "(none)"
                w.community = o["community"] as? String ?? "(none)"
            }
        }
        for id in order {
            let w = walks[id]!
            guard w.status == "CLOSED", let day = w.closedDay, day >= from, day <= to, let level = w.repliedAt else { continue }
            var handled = w.handled
            handled.insert(level)
            add(
                resolvedAt: level, handled: Array(handled), overdue: [], category: w.category, street: w.street,
                community: w.community)
        }
    }

    static func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }

    /// Every figure of a `report 721 --json` (with `--by by`) against this count.
    func check(_ report: [String: Any], by: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(report["resolved"] as? Int, resolved, "resolved", file: file, line: line)
        let breached = cases.filter { !$0.overdue.isEmpty }.count
        XCTAssertEqual(report["breached"] as? Int, breached, "breached", file: file, line: line)
        let levels = report["levels"] as? [[String: Any]] ?? []
        XCTAssertEqual(levels.map { $0["level"] as? String ?? "" }, Self.levels, file: file, line: line)
        for row in levels {
            let l = row["level"] as? String ?? ""
            let handled = cases.filter { $0.handled.contains(l) }.count
            let overdue = cases.filter { $0.overdue.contains(l) }.count
            XCTAssertEqual(
                row["resolved"] as? Int, cases.filter { $0.resolvedAt == l }.count, "\(l) resolved", file: file, line: line)
            XCTAssertEqual(row["handled"] as? Int, handled, "\(l) handled", file: file, line: line)
            XCTAssertEqual(row["breached"] as? Int, overdue, "\(l) breached", file: file, line: line)
            XCTAssertEqual(
                row["breachRate"] as? Double ?? -1, Self.ratio(overdue, handled), accuracy: 0.0001, "\(l)", file: file, line: line
            )
        }
        let tiers = [
            ("ESTATE+COMMUNITY", ["ESTATE", "COMMUNITY"], 0.7), ("STREET", ["STREET"], 0.2), ("DISTRICT", ["DISTRICT"], 0.1),
        ]
        let targets = report["targets"] as? [[String: Any]] ?? []
        XCTAssertEqual(targets.map { $0["tier"] as? String ?? "" }, tiers.map(\.0), file: file, line: line)
        for (row, (tier, levels, target)) in zip(targets, tiers) {
            let n = cases.filter { levels.contains($0.resolvedAt) }.count
            XCTAssertEqual(row["resolved"] as? Int, n, tier, file: file, line: line)
            XCTAssertEqual(
                row["actual"] as? Double ?? -1, Self.ratio(n, resolved), accuracy: 0.0001, tier, file: file, line: line)
            XCTAssertEqual(row["target"] as? Double, target, file: file, line: line)
        }
        func groups(_ rows: Any?, _ key: (Counted) -> String, _ what: String) {
            let rows = rows as? [[String: Any]] ?? []
            let expected = Dictionary(grouping: cases, by: key)
            XCTAssertEqual(Set(rows.map { $0["key"] as? String ?? "" }), Set(expected.keys), what, file: file, line: line)
            for row in rows {
                let k = row["key"] as? String ?? ""
                let c = expected[k] ?? []
                XCTAssertEqual(row["resolved"] as? Int, c.count, "\(what) \(k)", file: file, line: line)
                XCTAssertEqual(
                    row["estateCommunity"] as? Int, c.filter { ["ESTATE", "COMMUNITY"].contains($0.resolvedAt) }.count,
                    "\(what) \(k)", file: file, line: line)
                XCTAssertEqual(
                    row["street"] as? Int, c.filter { $0.resolvedAt == "STREET" }.count, "\(what) \(k)", file: file, line: line)
                XCTAssertEqual(
                    row["district"] as? Int, c.filter { $0.resolvedAt == "DISTRICT" }.count, "\(what) \(k)", file: file,
                    line: line)
                XCTAssertEqual(
                    row["breached"] as? Int, c.filter { !$0.overdue.isEmpty }.count, "\(what) \(k)", file: file, line: line)
            }
        }
        groups(report["categories"], \.category, "category")
        XCTAssertEqual(report["by"] as? String, by, file: file, line: line)
        groups(report["units"], by == "street" ? \.street : \.community, by)
    }
}
