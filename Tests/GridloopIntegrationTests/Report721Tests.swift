import Foundation
import GridloopPostgres
import XCTest

/// `gridloopd report 721` against counts made by the test from the feed it produced (what was
/// closed where, what went overdue where), not from the database.
extension SLAIntegrationTests {
    /// A 12319 message (`new` carries the full case; `accept`, `finish`, `feedback`, ...).
    func message12319(_ event: String, _ caseId: String, seq: Int, at time: Date, _ extra: [String: Any] = [:]) throws
        -> (key: [UInt8]?, value: [UInt8])
    {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        var v: [String: Any] = ["case_id": caseId, "event": event, "event_seq": seq, "event_time": f.string(from: time)]
        if event == "new" {
            v.merge([
                "case_type": "市容环境/垃圾清运不及时", "level": 3, "content": "垃圾桶满溢三天无人清运。", "caller_name": "李先生",
                "caller_tel": "13900002222", "addr": "包河区骆岗街道九珑湾5栋", "district": "340111", "street": "340111009",
                "community": "340111009001", "grid_no": "340111009001-03", "dept_code": "E9", "dept_name": "九珑湾物业服务中心",
                "dept_tier": "小区",
            ]) { _, b in b }
        }
        v.merge(extra) { _, b in b }
        return (Array(caseId.utf8), Array(try JSONSerialization.data(withJSONObject: v)))
    }

    static func shanghaiDay(_ d: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        return f.string(from: d)
    }

    /// The ladder in seconds (sign 3 s at every level): an order signed s seconds after its
    /// dispatch (whole seconds, never a multiple of 3) has gone overdue at ⌊s/3⌋ levels and
    /// climbed as many (at most to DISTRICT, where it is overdue again after 12 s), and is
    /// resolved where it signed. Both feeds; a withdrawn
    /// case, a replied one without callback and one closed two days before are not counted; an
    /// unsatisfied callback moves one up a level (policy ONE_LEVEL_UP), where it is resolved.
    func testReport721AgreesWithTheLadderWalkedByTheFeed() throws {
        let (binDir, broker, database, env) = try setUpLadder("people_721")
        let ladder = ["ESTATE", "COMMUNITY", "STREET", "DISTRICT"]
        let start = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970) - 3600)
        var expected = Report721Oracle()
        var feed12345: [(Date, (key: [UInt8]?, value: [UInt8]))] = []
        var feed12319: [(Date, (key: [UInt8]?, value: [UInt8]))] = []
        func at(_ s: Double) -> Date { start.addingTimeInterval(s) }
        let categories = [("0305", "物业管理/下水道堵塞"), ("0201", "市政设施/路灯不亮")]
        let places = [("340111002", "340111002003"), ("340111006", "340111006001")]
        for i in 0..<24 {
            let no = "HF721N\(i)"
            let s = [1.0, 2.0, 4.0, 7.0, 10.0, 13.0][i % 6]
            let (code, name) = categories[i % 2]
            let (street, community) = places[(i / 2) % 2]
            let climbed = min(3, Int(s / 3))
            feed12345.append(
                (
                    at(0),
                    try message(
                        "DISPATCH", no, at: at(0),
                        order: [
                            "category": ["code": code, "name": name],
                            "location": [
                                "address": "某地", "districtCode": "340111", "streetCode": street, "communityCode": community,
                            ],
                        ])
                ))
            feed12345.append((at(s), try message("SIGN", no, at: at(s), order: ["unitCode": "X"])))
            feed12345.append(
                (
                    at(s + 1),
                    try message("REPLY", no, at: at(s + 1), order: ["unitCode": "X", "result": "RESOLVED", "content": "已处理"])
                ))
            feed12345.append((at(s + 2), try message("VISIT", no, at: at(s + 2), order: ["satisfaction": "SATISFIED"])))
            expected.add(
                resolvedAt: ladder[climbed], handled: Array(ladder[0...climbed]),
                overdue: Array(ladder[0..<climbed]) + (s > 12 ? ["DISTRICT"] : []),
                category: name, street: street, community: community)
        }
        for (i, s) in [2.0, 5.0, 8.0, 13.0].enumerated() {
            let id = "12319-2026-72100\(i)"
            let climbed = min(3, Int(s / 3))
            feed12319.append((at(0), try message12319("new", id, seq: 1, at: at(0))))
            feed12319.append((at(s), try message12319("accept", id, seq: 2, at: at(s))))
            feed12319.append((at(s + 1), try message12319("finish", id, seq: 3, at: at(s + 1))))
            feed12319.append((at(s + 2), try message12319("feedback", id, seq: 4, at: at(s + 2), ["satisfaction": "基本满意"])))
            expected.add(
                resolvedAt: ladder[climbed], handled: Array(ladder[0...climbed]),
                overdue: Array(ladder[0..<climbed]) + (s > 12 ? ["DISTRICT"] : []),
                category: "市容环境/垃圾清运不及时", street: "340111009", community: "340111009001")
        }
        // Unsatisfied: one level up (COMMUNITY, fresh clocks), signed and resolved there in time.
        for (s, type, extra) in [
            (0.0, "DISPATCH", [:]), (1, "SIGN", ["unitCode": "X"]),
            (2, "REPLY", ["unitCode": "X", "result": "RESOLVED", "content": "已处理"]),
            (3, "VISIT", ["satisfaction": "UNSATISFIED"]), (4, "SIGN", ["unitCode": "C"]),
            (5, "REPLY", ["unitCode": "C", "result": "RESOLVED", "content": "已处理"]),
            (6, "VISIT", ["satisfaction": "SATISFIED"]),
        ] as [(Double, String, [String: Any])] {
            feed12345.append((at(s), try message(type, "HF721UP", at: at(s), order: extra)))
        }
        expected.add(
            resolvedAt: "COMMUNITY", handled: ["ESTATE", "COMMUNITY"], overdue: [], category: "物业管理/下水道堵塞",
            street: "340111002", community: "340111002003")
        // Not counted: withdrawn, replied without callback, closed two days earlier.
        for (s, no, type, extra) in [
            (0.0, "HF721W", "DISPATCH", [:]), (1, "HF721W", "SIGN", ["unitCode": "X"]), (2, "HF721W", "WITHDRAW", [:]),
            // (dispatched straight to the street office: the report names the street by it)
            (
                0, "HF721R", "DISPATCH",
                [
                    "assignee": [
                        "unitCode": "S340111002", "unitName": "望湖街道办事处",
                        "level": "STREET",
                    ]
                ]
            ),
            (1, "HF721R", "SIGN", ["unitCode": "X"]),
            (2, "HF721R", "REPLY", ["unitCode": "X", "result": "RESOLVED", "content": "已处理"]),
            (-172_800, "HF721OLD", "DISPATCH", [:]), (-172_799, "HF721OLD", "SIGN", ["unitCode": "X"]),
            (-172_798, "HF721OLD", "REPLY", ["unitCode": "X", "result": "RESOLVED", "content": "已处理"]),
            (-172_797, "HF721OLD", "VISIT", ["satisfaction": "SATISFIED"]),
        ] as [(Double, String, String, [String: Any])] {
            feed12345.append((at(s), try message(type, no, at: at(s), order: extra)))
        }
        // In time order, as the platforms send them, all before the daemon starts: it replays the
        // backlog by the feed's own times.
        let sorted12345 = feed12345.sorted { $0.0 < $1.0 }.map(\.1)
        let sorted12319 = feed12319.sorted { $0.0 < $1.0 }.map(\.1)
        try DaemonHarness.produce(sorted12345, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try DaemonHarness.produce(sorted12319, topic: IntakeIntegrationTests.t12319, brokers: broker.bootstrap)
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "721")
        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: sorted12345.count + sorted12319.count, daemon: daemon)
        XCTAssertEqual(daemon.terminate(), 0)

        let from = Self.shanghaiDay(start)
        let to = Self.shanghaiDay(Date())
        let html = FileManager.default.temporaryDirectory.appendingPathComponent("721-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: html) }
        let report = try XCTUnwrap(
            try gridloopdJSON(
                binDir,
                [
                    "report", "721", "--from", from, "--to", to, "--by", "community",
                    "--html", html.path,
                ], env) as? [String: Any])
        expected.check(report, by: "community")
        XCTAssertEqual(report["withClocks"] as? Int, expected.resolved)
        let byStreet = try XCTUnwrap(
            try gridloopdJSON(binDir, ["report", "721", "--from", from, "--to", to, "--by", "street"], env)
                as? [String: Any])
        expected.check(byStreet, by: "street")
        // Streets by the name of their office: known where a case was assigned at the STREET
        // level; not the estate unit of a case that only climbed there by escalation.
        let names = Dictionary(
            uniqueKeysWithValues: (byStreet["units"] as? [[String: Any]] ?? []).map {
                ($0["key"] as? String ?? "", $0["name"] ?? "missing")
            })
        XCTAssertEqual(names["340111002"] as? String, "望湖街道办事处")
        XCTAssertTrue(names["340111006"] is NSNull, "\(names)")
        XCTAssertTrue(names["340111009"] is NSNull, "\(names)")
        let streets = try gridloopd(binDir, ["report", "721", "--from", from, "--to", to, "--by", "street"], env)
        XCTAssertTrue(streets.out.contains("340111002 望湖街道办事处"), streets.out)

        let page = try String(contentsOf: html, encoding: .utf8)
        XCTAssertTrue(page.contains("<svg") && page.contains("721"), "an HTML page with a chart")
        let ec = try XCTUnwrap((report["targets"] as? [[String: Any]])?.first)["actual"] as? Double ?? -1
        XCTAssertTrue(page.contains("\((ec * 1000).rounded() / 10)%"), "the estate+community share on the page")
        for outside in ["<script", "<link", "<img", "url(", "@import", "https:"] {
            XCTAssertFalse(page.contains(outside), "self-contained: no \(outside)")
        }
        XCTAssertEqual(page.components(separatedBy: "http://").count - 1, 1, "only the SVG namespace")
        let table = try gridloopd(binDir, ["report", "721", "--from", from, "--to", to], env)
        XCTAssertEqual(table.status, 0, table.err)
        XCTAssertTrue(
            table.out.contains("\(expected.resolved) cases closed") && table.out.contains("小区+社区 estate+community"), table.out)

        let old = try XCTUnwrap(
            try gridloopdJSON(
                binDir,
                [
                    "report", "721", "--from", Self.shanghaiDay(at(-172_800)),
                    "--to", Self.shanghaiDay(at(-172_800)),
                ], env) as? [String: Any])
        XCTAssertEqual(old["resolved"] as? Int, 1, "the order closed two days earlier, in its own period")
        let bad = try gridloopd(binDir, ["report", "721", "--from", "yesterday", "--to", to], env)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("--from"), bad.err)
    }

    /// Generated feeds of both platforms (returns, redispatches up a level, withdrawals,
    /// unsatisfied callbacks and reopenings, resends), under limits no case reaches: every
    /// figure of the report equals a count made from the feed lines themselves.
    func testReport721AgreesWithACountOfTheGeneratedFeeds() throws {
        let policy = ladderPolicy.replacingOccurrences(of: "sign: 3s, handle: 600s", with: "sign: 365d, handle: 365d")
            .replacingOccurrences(of: "ONE_LEVEL_UP", with: "SAME_LEVEL")
        let (binDir, broker, database, env) = try setUpLadder("people_721_gen", policy: policy)
        let (_, feed12345, feed12319) = try consumeGeneratedFeeds(
            seeds: (7, 8), label: "721-gen", binDir: binDir, broker: broker, database: database, env: env)

        // The feeds start on 2026-11-23 (gen_feed.py's default); their callbacks run into December.
        for (from, to) in [("2026-11-24", "2026-11-26"), ("2026-11-01", "2026-12-31")] {
            let expected = Report721Oracle(feed12345: feed12345, feed12319: feed12319, from: from, to: to)
            XCTAssertGreaterThan(expected.resolved, 20, "a feed with something to count")
            for by in ["street", "community"] {
                let report = try XCTUnwrap(
                    try gridloopdJSON(binDir, ["report", "721", "--from", from, "--to", to, "--by", by], env)
                        as? [String: Any])
                expected.check(report, by: by)
                XCTAssertEqual(report["breached"] as? Int, 0)
            }
        }
    }
}
