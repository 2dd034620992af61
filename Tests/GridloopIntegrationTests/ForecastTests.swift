import Foundation
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// `gridloopd forecast` and the `gridloop_cases_at_risk` gauge, through a running daemon: two
/// estate units with opposite habits, and one fresh case each. (An extension of the SLA tests,
/// whose set-up and message builder it shares.)
extension SLAIntegrationTests {
    /// FAST signs every case within minutes; SLOW never signs within its 10-minute limit (each
    /// of its 20 cases went overdue and escalated away, censored at 10 minutes): enough
    /// handlings (20, the default) for estimates of their own. Each has a case
    /// dispatched 30 s ago: the forecast names SLOW's as certain to breach (S(10m)/S(30s) = 1)
    /// and FAST's as safe (0), each from the unit's own history, and says so; as of an instant
    /// before those cases were dispatched it lists neither; the daemon's gauge agrees with the
    /// command. The morning digest: none before its hour; after it, with two daemons back after
    /// being down at the hour, SLOW's digest once. Once per group: only the instance holding the
    /// analytics lease exports the gauge; kill -9 of it, and the other takes the analytics over
    /// without sending the digest again; the killed one, restarted, stands by.
    func testForecastNamesTheSlowUnitsFreshCaseAsTheOneAtRisk() throws {
        // The ladder policy in minutes: sign within 10, handle within 600, urges every 10.
        let policy = ladderPolicy.replacingOccurrences(of: "sign: 3s, handle: 600s", with: "sign: 10m, handle: 600m")
            .replacingOccurrences(of: "urge: {interval: 2s, cap: 2}", with: "urge: {interval: 10m, cap: 1}")
        XCTAssertFalse(policy.contains("3s") || policy.contains("2s"), "every limit in minutes")
        var (binDir, broker, database, env) = try setUpLadder("forecast", policy: policy)
        let now = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970))
        // Today is a working day whatever the date the test runs on (a calendar of this year with
        // no holiday, and today a 调休 working day if it is a weekend day), and the digest's hour is an hour away (or the
        // day's last minute): this daemon emits none.
        var shanghai = Calendar(identifier: .gregorian)
        shanghai.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        let today = Self.shanghaiDay(now)
        let minute = shanghai.component(.hour, from: now) * 60 + shanghai.component(.minute, from: now)
        let calendars = FileManager.default.temporaryDirectory.appendingPathComponent("calendars-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: calendars, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: calendars) }
        let weekend = [1, 7].contains(shanghai.component(.weekday, from: now))
        let workdays = weekend ? "workdays:\n  - {date: \(today), name: 调休}\n" : "workdays: []\n"
        try "year: \(today.prefix(4))\ntimezone: Asia/Shanghai\nholidays: []\n\(workdays)"
            .write(to: calendars.appendingPathComponent("cn-\(today.prefix(4)).yaml"), atomically: true, encoding: .utf8)
        env["GRIDLOOP_CALENDAR_DIR"] = calendars.path
        func hhmm(_ m: Int) -> String { String(format: "%02d:%02d", m / 60, m % 60) }
        env["GRIDLOOP_FORECAST_DIGEST_AT"] = hhmm(min(minute + 60, 23 * 60 + 59))
        let base = now.addingTimeInterval(-6 * 3600)
        func at(_ d: Date, _ minutes: Double) -> Date { d.addingTimeInterval(minutes * 60) }
        func assignee(_ unit: String) -> [String: Any] {
            ["assignee": ["unitCode": unit, "unitName": unit == "FAST" ? "快物业" : "慢物业", "level": "ESTATE"]]
        }
        var feed: [(Date, (key: [UInt8]?, value: [UInt8]))] = []
        for i in 0..<20 {
            let t0 = at(base, Double(i) * 15)
            let fast = "FCFAST\(i)"
            feed.append((t0, try message("DISPATCH", fast, at: t0, order: assignee("FAST"))))
            feed.append(
                (at(t0, Double(i % 6 + 1)), try message("SIGN", fast, at: at(t0, Double(i % 6 + 1)), order: ["unitCode": "FAST"]))
            )
            feed.append(
                (
                    at(t0, 12),
                    try message(
                        "REPLY", fast, at: at(t0, 12), order: ["unitCode": "FAST", "result": "RESOLVED", "content": "已疏通"])
                ))
            feed.append((at(t0, 15), try message("VISIT", fast, at: at(t0, 15), order: ["satisfaction": "SATISFIED"])))
            // SLOW: escalated at 10 minutes; the community signs and replies.
            let slow = "FCSLOW\(i)"
            feed.append((t0, try message("DISPATCH", slow, at: t0, order: assignee("SLOW"))))
            feed.append((at(t0, 14), try message("SIGN", slow, at: at(t0, 14), order: ["unitCode": "SUPERVISION"])))
            feed.append(
                (
                    at(t0, 16),
                    try message(
                        "REPLY", slow, at: at(t0, 16), order: ["unitCode": "SUPERVISION", "result": "RESOLVED", "content": "已疏通"])
                ))
            feed.append((at(t0, 18), try message("VISIT", slow, at: at(t0, 18), order: ["satisfaction": "SATISFIED"])))
        }
        let fresh = now.addingTimeInterval(-30)
        feed.append((fresh, try message("DISPATCH", "FCFASTOPEN", at: fresh, order: assignee("FAST"))))
        feed.append((fresh, try message("DISPATCH", "FCSLOWOPEN", at: fresh, order: assignee("SLOW"))))
        feed.sort { $0.0 < $1.0 }
        try DaemonHarness.produce(feed.map(\.1), topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)

        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "gridloopd-forecast")
        let port = try DaemonHarness.httpPort(daemon)
        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: feed.count, daemon: daemon)
        // The history's escalations are taken (each SLOW case left its estate at 10 minutes).
        func decisions() throws -> String {
            let r = try db.query("SELECT case_id, type, decided_at FROM sla_decisions ORDER BY 1, 3")
            return (0..<r.count).map { "\(r.string($0, 0)!) \(r.string($0, 1)!) \(r.string($0, 2)!)" }.joined(separator: "\n")
        }
        try eventually("SLOW's 20 cases escalated: \((try? decisions()) ?? "")") {
            try db.query(
                "SELECT count(*) FROM sla_decisions WHERE type = 'gridloop.case.escalated' AND case_id ~ '^12345:FCSLOW[0-9]+$'"
            ).int(0, 0) == 20
        }

        let nowText = ISO8601DateFormatter().string(from: now)
        let args = ["forecast", "--within", "30m"]
        for (mode, extra) in [("CLOCKS", [String]()), ("HISTORY", ["--at", nowText])] {
            let out = try gridloopd(binDir, args + extra + ["--json"], env)
            XCTAssertEqual(out.status, 0, out.err)
            for secret in ["王女士", "13800001111", "下水道堵塞，污水外溢", "包河区某小区"] {
                XCTAssertFalse(out.out.contains(secret), "no citizen's data in the forecast")
            }
            let forecast = try jsonObject(out.out)
            XCTAssertEqual(forecast["clocks"] as? String, mode)
            let units = try XCTUnwrap(forecast["units"] as? [[String: Any]])
            XCTAssertEqual(units.map { $0["unitCode"] as? String }, ["SLOW", "FAST"], "most at risk first (\(mode))")
            guard units.count == 2 else { continue }
            XCTAssertEqual(units[0]["unitName"] as? String, "慢物业")
            XCTAssertEqual(units[0]["expectedBreaches"] as? Double ?? -1, 1, accuracy: 1e-9)
            XCTAssertEqual(units[1]["expectedBreaches"] as? Double ?? -1, 0, accuracy: 1e-9)
            for (unit, caseId, p) in [(units[0], "12345:FCSLOWOPEN", 1.0), (units[1], "12345:FCFASTOPEN", 0.0)] {
                let cases = try XCTUnwrap(unit["cases"] as? [[String: Any]])
                XCTAssertEqual(cases.count, 1, "\(mode): only the sign clock is due within 30 minutes")
                XCTAssertEqual(cases.first?["caseId"] as? String, caseId)
                XCTAssertEqual(cases.first?["clock"] as? String, "SIGN")
                XCTAssertEqual(cases.first?["basis"] as? String, "UNIT", "each from its own history")
                XCTAssertEqual(cases.first?["handlings"] as? Int, 21, "20 done and the open one")
                XCTAssertEqual(cases.first?["probability"] as? Double ?? -1, p, accuracy: 1e-9)
                XCTAssertEqual(
                    Set(cases.first?.keys.map { $0 } ?? []),
                    ["caseId", "level", "unitCode", "clock", "deadline", "used", "probability", "basis", "handlings"])
                XCTAssertEqual(
                    cases.first?["deadline"] as? String, RFCTime.format(fresh.addingTimeInterval(600)), "10 minutes on")
            }
            let levels = try XCTUnwrap(forecast["levels"] as? [[String: Any]])
            XCTAssertEqual(levels.first?["level"] as? String, "ESTATE")
            XCTAssertEqual(levels.first?["clocks"] as? Int, 2)
        }

        // A minute before the fresh cases: they did not exist; every other clock was closed.
        let before = try jsonObject(
            try gridloopd(
                binDir, args + ["--at", ISO8601DateFormatter().string(from: now.addingTimeInterval(-60)), "--json"], env
            )
            .out)
        XCTAssertEqual((before["units"] as? [Any])?.count, 0, "nothing open then")

        // The history capped (forecast.historyMaxHandlings): the latest 10 handlings only, and it says so.
        var capped = env
        capped["GRIDLOOP_FORECAST_HISTORY_MAX"] = "10"
        let few = try jsonObject(try gridloopd(binDir, args + ["--json"], capped).out)
        XCTAssertEqual(few["handlings"] as? Int, 10)
        XCTAssertEqual(few["historyMaxHandlings"] as? Int, 10)
        XCTAssertGreaterThan(try jsonObject(try gridloopd(binDir, args + ["--json"], env).out)["handlings"] as? Int ?? 0, 40)
        XCTAssertTrue(try gridloopd(binDir, args, capped).out.contains("the latest only"), "the text says the history is capped")

        // The text a supervisor reads.
        let text = try gridloopd(binDir, args, env)
        XCTAssertTrue(text.out.contains("ESTATE SLOW 慢物业: expected breaches 1.00 of 1"), text.out)
        XCTAssertTrue(text.out.contains("12345:FCSLOWOPEN"), text.out)

        // The gauge: the command's answer for the rest of the working day (computed a few
        // seconds after the start, then every minute).
        let day = try jsonObject(try gridloopd(binDir, ["forecast", "--within", "1wd", "--json"], env).out)
        let expected =
            ((day["levels"] as? [[String: Any]]) ?? []).first { $0["level"] as? String == "ESTATE" }?[
                "expectedBreaches"] as? Double ?? 0
        XCTAssertGreaterThanOrEqual(expected, 1, "SLOW's fresh case is due today or on the next working day")
        var seen = -1.0
        try eventually("gridloop_cases_at_risk{level=ESTATE} is \(expected), the command's answer (last seen \(seen))") {
            let metrics = try PrometheusText(try XCTUnwrap(httpGet(port: port, "/metrics")?.body))
            seen = metrics.sum("gridloop_cases_at_risk", ["level": "ESTATE"])
            return abs(seen - expected) < 1e-6
        }
        let metrics = try PrometheusText(try XCTUnwrap(httpGet(port: port, "/metrics")?.body))
        XCTAssertEqual(metrics.sum("gridloop_cases_at_risk", ["level": "DISTRICT"]), 0)
        if minute + 60 <= 23 * 60 + 59 {
            XCTAssertEqual(try db.query("SELECT count(*) FROM unit_digest_days").int(0, 0), 0, "not the digest's hour yet")
        }
        XCTAssertEqual(daemon.terminate(), 0)

        // The hour passed while no daemon ran (digestAt: the minute the test started): two
        // daemons come back the same day; the digests go out once, from one of them.
        env["GRIDLOOP_FORECAST_DIGEST_AT"] = hhmm(minute)
        var daemons = try (1...2).map {
            try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "gridloopd-digest-\($0)")
        }
        try eventually("the day's digests are queued") {
            let r = try db.query("SELECT digests FROM unit_digest_days WHERE day = $1::date", [today])
            return r.count == 1 && r.int(0, 0) == 1
        }
        try eventually("and published") { try db.query("SELECT count(*) FROM outbox").int(0, 0) == 0 }
        func digests() throws -> [[String: Any]] {
            try read(topic: "gridloop.supervision", brokers: broker.bootstrap, atLeast: 1).filter {
                $0["type"] as? String == "gridloop.unit.digest"
            }
        }
        let sent = try digests()
        XCTAssertEqual(sent.count, 1, "one digest: SLOW's (FAST has no clock at risk)")
        if let d = sent.first {
            XCTAssertEqual(d["id"] as? String, "digest/\(today)/ESTATE/SLOW")
            XCTAssertEqual(d["subject"] as? String, "SLOW")
            let body = data(d)
            XCTAssertEqual(body["unitName"] as? String, "慢物业")
            // Its sign clock, and its handle clock (10 hours) when that falls before midnight.
            let midnight = shanghai.date(byAdding: .day, value: 1, to: shanghai.startOfDay(for: now))!
            let clocks = fresh.addingTimeInterval(600 * 60) <= midnight ? ["SIGN", "HANDLE"] : ["SIGN"]
            XCTAssertEqual(body["clocksDue"] as? Int, clocks.count)
            XCTAssertEqual(body["expectedBreaches"] as? Double ?? -1, Double(clocks.count), accuracy: 1e-9)
            let atRisk = body["atRisk"] as? [[String: Any]] ?? []
            XCTAssertEqual(atRisk.map { $0["caseId"] as? String }, clocks.map { _ in "12345:FCSLOWOPEN" })
            XCTAssertEqual(Set(atRisk.compactMap { $0["clock"] as? String }), Set(clocks))
            for c in atRisk { XCTAssertEqual(c["probability"] as? Double ?? -1, 1, accuracy: 1e-9) }
        }

        // Once per group: exactly one of the two holds the analytics lease; it alone exports the
        // gauge and runs analytics rounds.
        var ports = try daemons.map { try DaemonHarness.httpPort($0) }
        func scrape(_ i: Int) throws -> PrometheusText {
            try PrometheusText(try XCTUnwrap(httpGet(port: ports[i], "/metrics")?.body))
        }
        var leader = -1
        try eventually("exactly one instance holds the analytics lease") {
            let holding = try (0..<2).filter { try scrape($0).sum("gridloop_analytics_leader") == 1 }
            leader = holding.count == 1 ? holding[0] : -1
            guard leader >= 0 else { return false }
            return try scrape(1 - leader).has("gridloop_analytics_leader")
        }
        let standby = 1 - leader
        XCTAssertGreaterThanOrEqual(try scrape(leader).sum("gridloop_cases_at_risk", ["level": "ESTATE"]), 1)
        XCTAssertFalse(try scrape(standby).has("gridloop_cases_at_risk"), "the standby exports no gauge")
        XCTAssertEqual(try scrape(standby).sum("gridloop_analytics_rounds_total"), 0, "nor runs any analytics round")
        XCTAssertFalse(daemons[standby].log.contains("analytics lease taken"), daemons[standby].log)

        // kill -9 of the holder: its session ends with it, and the survivor, which tries every 10 s,
        // takes the lease over and runs the rounds; the day's digest is not queued again.
        let killed = Date()
        daemons[leader].kill9()
        try eventually("the survivor takes the analytics over") {
            let m = try scrape(standby)
            return m.sum("gridloop_analytics_leader") == 1 && m.sum("gridloop_analytics_rounds_total", ["task": "digest"]) >= 1
                && m.sum("gridloop_analytics_rounds_total", ["task": "gauge"]) >= 1
        }
        print("analytics taken over \(String(format: "%.1f", Date().timeIntervalSince(killed))) s after the kill -9")
        XCTAssertGreaterThanOrEqual(try scrape(standby).sum("gridloop_cases_at_risk", ["level": "ESTATE"]), 1)
        XCTAssertTrue(daemons[standby].log.contains("analytics lease taken"))
        XCTAssertEqual(try db.query("SELECT count(*) FROM unit_digest_days").int(0, 0), 1)
        XCTAssertEqual(try db.query("SELECT count(*) FROM outbox").int(0, 0), 0, "no digest queued again")
        XCTAssertEqual(try digests().count, 1, "still one digest on the topic")

        // The killed instance comes back the same day: it stands by.
        daemons[leader] = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "gridloopd-digest-again")
        ports[leader] = try DaemonHarness.httpPort(daemons[leader])
        try eventually("the restarted instance answers") { try scrape(leader).has("gridloop_analytics_leader") }
        XCTAssertEqual(try scrape(leader).sum("gridloop_analytics_leader"), 0, "it stands by: the survivor keeps the lease")
        XCTAssertEqual(try scrape(standby).sum("gridloop_analytics_leader"), 1)
        for d in daemons { XCTAssertEqual(d.terminate(), 0) }
    }
}

/// RFC 3339 as gridloopd prints an instant of whole seconds (+08:00).
enum RFCTime {
    static func format(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ssXXXXX"
        return f.string(from: d)
    }
}
