import Foundation
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// Who each escalation reaches, and whose clock each supervision event concerns, read on the
/// outbound topics as a subscriber (an SMS gateway, a supervision board) reads them: the unit
/// directory names the receiving unit at every rung, and a backlog replay says the same as a
/// live run.
final class UnitAttributionTests: XCTestCase {
    /// An unsigned order climbs the whole ladder, once live and once as yesterday's backlog read
    /// by a daemon started today: each of the four overdues names the level and unit whose
    /// limit passed, each escalation the unit the directory names, and the urges go to the
    /// district department. Both runs emit the same data.
    func testEveryRungNamesItsUnitLiveAndInABacklogReplay() throws {
        let (binDir, broker, database, env) = try setUp("units_ladder", directory: SLAIntegrationTests.unitsFile)
        // The backlog: dispatched yesterday, never signed, in the topic before the daemon starts.
        try DaemonHarness.produce(
            [try message("DISPATCH", "HFBACKLOG", at: Date().addingTimeInterval(-86_400))],
            topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "units")
        defer { daemon.terminate() }
        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: 1, daemon: daemon)
        // Live: dispatched now, walks the ladder 3 s a rung while the daemon watches.
        try DaemonHarness.produce(
            [try message("DISPATCH", "HFLIVE", at: Date())], topic: IntakeIntegrationTests.t12345,
            brokers: broker.bootstrap)
        // Yesterday's order also passed its 600 s handle limit at DISTRICT: warned, overdue and
        // urged twice on that clock as well (the live one is not there yet).
        try eventually("both orders urged twice on the sign limit", attempts: 600) {
            XCTAssertTrue(daemon.isRunning, daemon.log)
            return try db.query("SELECT count(*) FROM sla_decisions WHERE id LIKE '%/SIGN/urge-%'").int(0, 0) == 4
        }
        try eventually("the outbox is published") { try db.query("SELECT count(*) FROM outbox").int(0, 0) == 0 }
        let events =
            try read(topic: "gridloop.escalations", brokers: broker.bootstrap, expected: 6)
            + read(topic: "gridloop.supervision", brokers: broker.bootstrap, expected: 24)

        let ladder = ["ESTATE", "COMMUNITY", "STREET", "DISTRICT"]
        let holders = ["E1", "C340111002003", "S340111002", "D340111-ZJ"]
        var seen: [String: [String]] = [:]
        for order in ["HFLIVE", "HFBACKLOG"] {
            // The sign limit's story, rung by rung (the handle limit of the backlog's DISTRICT
            // assignment also passed: its events are checked below).
            let mine = events.filter {
                $0["subject"] as? String == "12345:\(order)" && clock($0)["kind"] as? String ?? "SIGN" == "SIGN"
            }.sorted { a, b in
                (a["time"] as? String ?? "", rank(a)) < (b["time"] as? String ?? "", rank(b))
            }
            let overdues = mine.filter { $0["type"] as? String == "gridloop.case.supervision.overdue" }
            XCTAssertEqual(overdues.map { clock($0)["level"] as? String ?? "" }, ladder, "\(order): whose limit passed")
            XCTAssertEqual(overdues.map { clock($0)["unitCode"] as? String ?? "" }, holders, order)
            XCTAssertEqual(overdues.map { data($0)["level"] as? String ?? "" }, ladder, "\(order): level at the instant")
            XCTAssertEqual(overdues.map { assignee($0) }, holders, "\(order): assignee at the instant")
            let escalations = mine.filter { $0["type"] as? String == "gridloop.case.escalated" }
            XCTAssertEqual(
                escalations.map { toUnit($0) }, ["C340111002003 directory", "S340111002 directory", "D340111-ZJ directory"],
                order)
            XCTAssertEqual(escalations.map { assignee($0) }, Array(holders.dropFirst()), "\(order): the receiving unit")
            XCTAssertEqual(escalations.map { clock($0)["unitCode"] as? String ?? "" }, Array(holders.dropLast()), order)
            let urges = mine.filter { $0["type"] as? String == "gridloop.case.supervision.urge" }
            XCTAssertEqual(urges.map { assignee($0) }, ["D340111-ZJ", "D340111-ZJ"], "\(order): urges to the department")
            XCTAssertEqual(urges.map { clock($0)["level"] as? String ?? "" }, ["DISTRICT", "DISTRICT"], order)
            // Everything but the order's own identity and times, event by event.
            seen[order] = mine.map { e in
                var d = data(e)
                for k in ["caseId", "orderNo", "deadline"] { d[k] = nil }
                let text = String(decoding: try! JSONSerialization.data(withJSONObject: d, options: .sortedKeys), as: UTF8.self)
                return "\(e["type"] as? String ?? "") \(text)"
            }
        }
        XCTAssertEqual(seen["HFBACKLOG"], seen["HFLIVE"], "a replayed backlog emits what a live run emits")
        let handle = events.filter { clock($0)["kind"] as? String == "HANDLE" }
        XCTAssertEqual(handle.count, 4, "the backlog's handle limit at DISTRICT: warning, overdue, 2 urges")
        XCTAssertTrue(handle.allSatisfy { $0["subject"] as? String == "12345:HFBACKLOG" && assignee($0) == "D340111-ZJ" })
        let assigned = try db.query("SELECT unit_code, level FROM cases WHERE case_id = '12345:HFLIVE'")
        XCTAssertEqual([assigned.string(0, 0), assigned.string(0, 1)], ["D340111-ZJ", "DISTRICT"], "case show and status")
        XCTAssertEqual(daemon.terminate(), 0)
    }

    /// A directory without the community: the first order escalates to the unit the platform
    /// itself dispatched another order of that community to (`learned`); an order of a community
    /// nobody knows goes to the default unit. Each is said in the event and counted, and the log
    /// warns once per missing code, not once per case.
    func testAMissingEntryIsLearnedFromTheFeedThenFallsToTheDefaultUnit() throws {
        let directory = """
            default: {unitCode: DCS340111, unitName: 包河区督查室}
            street:
              - {code: "340111002", unitCode: S340111002, unitName: 包公街道办事处}
            """
        let (binDir, broker, database, env) = try setUp("units_missing", directory: directory)
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "units-missing")
        defer { daemon.terminate() }
        let now = Date()
        // The platform dispatches one order of community 340111002003 straight to its community
        // office (signed at once): that teaches who the community office is.
        // Applied first: what one partition teaches is not ordered with another partition's clocks.
        try DaemonHarness.produce(
            [
                try message(
                    "DISPATCH", "HFTEACH", at: now,
                    order: ["assignee": ["unitCode": "C340111002003", "unitName": "南门社区居委会", "level": "COMMUNITY"]]),
                try message("SIGN", "HFTEACH", at: now, order: ["unitCode": "C340111002003"]),
            ], topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: 2, daemon: daemon)
        var feed = try ["HFLEARN1", "HFLEARN2"].map { try message("DISPATCH", $0, at: Date()) }
        // Two orders of a community the directory does not list and no order taught.
        let elsewhere: [String: Any] = [
            "address": "包河区某小区2栋", "districtCode": "340111", "streetCode": "340111002",
            "communityCode": "340111002009", "gridCode": "340111002009-01",
        ]
        feed += try ["HFNOBODY1", "HFNOBODY2"].map {
            try message("DISPATCH", $0, at: Date(), order: ["location": elsewhere])
        }
        try DaemonHarness.produce(feed, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try eventually("the four orders reach DISTRICT", attempts: 600) {
            XCTAssertTrue(daemon.isRunning, daemon.log)
            return try db.query("SELECT count(*) FROM cases WHERE level = 'DISTRICT'").int(0, 0) == 4
        }
        try eventually("the outbox is published") { try db.query("SELECT count(*) FROM outbox").int(0, 0) == 0 }
        let escalations = try read(topic: "gridloop.escalations", brokers: broker.bootstrap, expected: 12)
        func firstRung(_ order: String) -> String? {
            escalations.first {
                $0["subject"] as? String == "12345:\(order)" && data($0)["toLevel"] as? String == "COMMUNITY"
            }.map(toUnit)
        }
        XCTAssertEqual(firstRung("HFLEARN1"), "C340111002003 learned")
        XCTAssertEqual(firstRung("HFLEARN2"), "C340111002003 learned")
        XCTAssertEqual(firstRung("HFNOBODY1"), "DCS340111 default")
        XCTAssertEqual(firstRung("HFNOBODY2"), "DCS340111 default")
        // No district department for category 0305 in this directory, and none taught: the default.
        XCTAssertEqual(
            Set(escalations.filter { data($0)["toLevel"] as? String == "DISTRICT" }.map(toUnit)), ["DCS340111 default"])
        let learned = try db.query(
            "SELECT unit_code, case_id FROM learned_units WHERE level = 'COMMUNITY' AND code = '340111002003'")
        XCTAssertEqual([learned.string(0, 0), learned.string(0, 1)], ["C340111002003", "12345:HFTEACH"])

        let port = try DaemonHarness.httpPort(daemon)
        let metrics = try PrometheusText(try XCTUnwrap(httpGet(port: port, "/metrics")?.body))
        XCTAssertEqual(metrics.sum("gridloop_unit_resolutions_total", ["resolvedBy": "learned"]), 2)
        XCTAssertEqual(metrics.sum("gridloop_unit_resolutions_total", ["resolvedBy": "default"]), 6)
        XCTAssertEqual(metrics.sum("gridloop_unit_resolutions_total", ["resolvedBy": "directory"]), 4, "to STREET, by the file")
        let warnings = daemon.log.split(separator: "\n").filter { $0.contains("unit directory has no entry") }
        XCTAssertEqual(warnings.count, 3, "once per missing code:\n\(warnings.joined(separator: "\n"))")
        XCTAssertEqual(warnings.filter { $0.contains("340111002003") && $0.contains("learned") }.count, 1)
        XCTAssertEqual(warnings.filter { $0.contains("340111002009") && $0.contains("default") }.count, 1)
        XCTAssertEqual(warnings.filter { $0.contains("340111/0305") && $0.contains("default") }.count, 1)
        XCTAssertEqual(daemon.terminate(), 0)
    }

    // MARK: Helpers

    /// The ladder's set-up (seconds policy, broker, database) with `directory` as the unit directory file.
    func setUp(_ name: String, directory: String) throws
        -> (binDir: String, broker: TestBroker, database: String, env: [String: String])
    {
        var (binDir, broker, database, env) = try setUpLadder(name)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("units-\(UUID().uuidString).yaml")
        try directory.write(to: file, atomically: true, encoding: .utf8)
        env["GRIDLOOP_UNIT_DIRECTORY"] = file.path
        return (binDir, broker, database, env)
    }

    func clock(_ e: [String: Any]) -> [String: Any] { data(e)["clock"] as? [String: Any] ?? [:] }

    func assignee(_ e: [String: Any]) -> String {
        (data(e)["assignee"] as? [String: Any])?["unitCode"] as? String ?? ""
    }

    func toUnit(_ e: [String: Any]) -> String {
        let u = data(e)["toUnit"] as? [String: Any] ?? [:]
        return "\(u["unitCode"] as? String ?? "") \(u["resolvedBy"] as? String ?? "")"
    }

    /// Order of the events of one instant: warning, overdue, escalation, urge.
    func rank(_ e: [String: Any]) -> Int {
        switch e["type"] as? String ?? "" {
        case "gridloop.case.supervision.warning": 0
        case "gridloop.case.supervision.overdue": 1
        case "gridloop.case.escalated": 2
        default: 3
        }
    }
}
