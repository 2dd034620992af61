import Foundation
import GridloopPostgres
import XCTest

/// `gridloopd report scorecard` against an independent recomputation (ScorecardOracle) of every
/// figure from the `case show --json` output of every case.
extension SLAIntegrationTests {
    /// A generated week of both feeds (returns redispatched up a level, withdrawals, units that
    /// never answer, suspensions and extensions, unsatisfied callbacks escalated one level up
    /// and reopened, unreachable callbacks, resends) under a policy in hours that the feed's
    /// own timing breaks often (sign 2 h, handle 48 h: overdue escalations at every level):
    /// every figure of every unit, its composite, rank and list equal the oracle's, for the
    /// month and for a few days of it; `--level`, `--unit` and `--csv` print the same rows.
    func testScorecardAgreesWithAnOracleOverEveryCase() throws {
        let weights: [String: Double] = ["response": 30, "onTime": 10, "resolution": 35, "satisfaction": 35, "reopen": 5]
        let policy =
            ladderPolicy.replacingOccurrences(of: "sign: 3s, handle: 600s", with: "sign: 2h, handle: 48h")
            + "\nevaluation:\n  weights: {response: 30, onTime: 10, resolution: 35, satisfaction: 35, reopen: 5}\n"
            + "  minCases: 3\n  listSize: 2\n"
        let (binDir, broker, database, env) = try setUpLadder("people_scorecard", policy: policy)
        let db = try consumeGeneratedFeeds(
            seeds: (15, 16), label: "scorecard", binDir: binDir, broker: broker, database: database, env: env
        ).db

        // Every case as `case show` prints it, with the daemon stopped: the report reads the same rows.
        let ids = try db.query("SELECT case_id FROM cases ORDER BY case_id", [], context: "test: case ids")
        var cases: [[String: Any]] = []
        for i in 0..<ids.count {
            cases.append(try XCTUnwrap(try gridloopdJSON(binDir, ["case", "show", ids.string(i, 0)!], env) as? [String: Any]))
        }
        XCTAssertEqual(cases.count, 300)

        // The feeds start on 2026-11-23 (gen_feed.py's default); escalations and callbacks run into December.
        for period in [["--month", "2026-11"], ["--from", "2026-11-24", "--to", "2026-11-25"], ["--month", "2026-12"]] {
            let (from, to) = period[0] == "--month" ? Self.monthBounds(period[1]) : (period[1], period[3])
            let expected = try ScorecardOracle(
                cases: cases, from: from, to: to, weights: weights, minCases: 3, listSize: 2)
            let report = try XCTUnwrap(
                try gridloopdJSON(binDir, ["report", "scorecard"] + period, env) as? [String: Any])
            XCTAssertEqual(report["from"] as? String, from)
            XCTAssertEqual(report["to"] as? String, to)
            expected.check(report)
            if period[1] == "2026-11" {
                // A month with something of every kind to count.
                for (what, atLeast) in [
                    ("(escalatedTo)", 10), ("returnedElsewhere", 3), ("escalatedAway", 10), ("reopened", 3),
                    ("overdue", 20), ("resolved", 50), ("callbacks", 100), ("responded", 50), ("onTime", 50),
                ] {
                    XCTAssertGreaterThanOrEqual(expected.tally[what] ?? 0, atLeast, "\(what) in \(expected.tally)")
                }
                let units = report["units"] as? [[String: Any]] ?? []
                XCTAssertGreaterThan(units.filter { $0["list"] as? String == "RED" }.count, 2, "red lists")
                XCTAssertGreaterThan(units.filter { $0["list"] as? String == "BLACK" }.count, 2, "black lists")
                XCTAssertTrue(units.contains { $0["rank"] is NSNull }, "units below minCases are not ranked")

                // --level and --unit select rows; ranks stay the level's.
                let community = try XCTUnwrap(
                    try gridloopdJSON(binDir, ["report", "scorecard", "--month", "2026-11", "--level", "COMMUNITY"], env)
                        as? [String: Any])
                let rows = community["units"] as? [[String: Any]] ?? []
                XCTAssertFalse(rows.isEmpty)
                XCTAssertTrue(rows.allSatisfy { $0["level"] as? String == "COMMUNITY" })
                expected.check(["units": rows], only: "COMMUNITY|")
                let one = try XCTUnwrap(rows.first { $0["rank"] as? Int != nil })
                let code = try XCTUnwrap(one["unitCode"] as? String)
                let single = try XCTUnwrap(
                    try gridloopdJSON(binDir, ["report", "scorecard", "--month", "2026-11", "--unit", code], env)
                        as? [String: Any])
                let singleRows = single["units"] as? [[String: Any]] ?? []
                XCTAssertEqual(singleRows.first { $0["level"] as? String == "COMMUNITY" }?["rank"] as? Int, one["rank"] as? Int)
                XCTAssertTrue(singleRows.allSatisfy { $0["unitCode"] as? String == code })

                let csv = try gridloopd(binDir, ["report", "scorecard", "--month", "2026-11", "--csv"], env)
                XCTAssertEqual(csv.status, 0, csv.err)
                let lines = csv.out.components(separatedBy: "\r\n").filter { !$0.isEmpty }
                XCTAssertEqual(lines.count, units.count + 1, "a header and one line per unit")
                XCTAssertTrue(lines[0].hasPrefix("level,unitCode,unitName,assigned,"), lines[0])
                let html = FileManager.default.temporaryDirectory.appendingPathComponent("scorecard-\(UUID().uuidString).html")
                defer { try? FileManager.default.removeItem(at: html) }
                let table = try gridloopd(binDir, ["report", "scorecard", "--month", "2026-11", "--html", html.path], env)
                XCTAssertEqual(table.status, 0, table.err)
                XCTAssertTrue(
                    table.out.contains("红榜") && table.out.contains("黑榜") && table.out.contains("社区 community"), table.out)
                // The page: every ranked unit in its level's table, the lists marked, bars inline.
                let page = try String(contentsOf: html, encoding: .utf8)
                for u in units where u["rank"] is Int {
                    XCTAssertTrue(page.contains(u["unitCode"] as? String ?? "?"), "\(u["unitCode"] ?? "") on the page")
                }
                XCTAssertEqual(
                    page.components(separatedBy: "<tr class=\"red\">").count - 1,
                    units.filter { $0["list"] as? String == "RED" }.count, "the red list marked")
                XCTAssertEqual(
                    page.components(separatedBy: "<tr class=\"black\">").count - 1,
                    units.filter { $0["list"] as? String == "BLACK" }.count, "the black list marked")
                XCTAssertTrue(page.contains("<svg"), "rates as inline SVG bars")
                for outside in ["<script", "<link", "<img", "url(", "@import", "http:", "https:"] {
                    XCTAssertFalse(page.contains(outside), "self-contained: no \(outside)")
                }
            }
        }
        for bad in [
            ["--month", "2026-13"], ["--month", "2026-11", "--from", "2026-11-01"], ["--from", "2026-11-01"],
            ["--month", "2026-11", "--level", "CITY"], ["--month", "2026-11", "--json", "--csv"],
        ] {
            let r = try gridloopd(binDir, ["report", "scorecard"] + bad, env)
            XCTAssertNotEqual(r.status, 0, "\(bad)")
        }
    }

    /// First and last day of `YYYY-MM`.
    static func monthBounds(_ month: String) -> (String, String) {
        let parts = month.split(separator: "-").map { Int($0)! }
        var c = DateComponents()
        c.year = parts[0]
        c.month = parts[1] + 1
        c.day = 0
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        let last = calendar.component(.day, from: calendar.date(from: c)!)
        return ("\(month)-01", "\(month)-\(String(format: "%02d", last))")
    }
}
