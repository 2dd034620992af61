import Foundation
import GridloopPostgres
import XCTest

/// The commands the operations team uses: `status`, `case show`, `report 721`, `dlq retry`.
/// (An extension of the SLA tests, whose set-up and message builder they share.)
extension SLAIntegrationTests {
    /// Runs `gridloopd ARGS`; returns the exit status, stdout and stderr.
    func gridloopd(_ binDir: String, _ args: [String], _ env: [String: String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDir + "/gridloopd")
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let dir = FileManager.default.temporaryDirectory
        let out = dir.appendingPathComponent("out-\(UUID().uuidString)"), err = dir.appendingPathComponent("err-\(UUID().uuidString)")
        for f in [out, err] { _ = FileManager.default.createFile(atPath: f.path, contents: nil) }
        defer { for f in [out, err] { try? FileManager.default.removeItem(at: f) } }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    func jsonObject(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    /// `status --json`: the lag is what was produced and not consumed, the open cases are there.
    func testStatusShowsTheLagAndTheOpenCases() throws {
        let (binDir, broker, database, env) = try setUpLadder("people_status", sign: "3600s")
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "status")
        try DaemonHarness.produce(try (0..<5).map { try message("DISPATCH", "HFST\($0)", at: Date()) },
                                  topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        let db = try PostgresConnection(database)
        try eventually("5 cases applied") { try db.query("SELECT count(*) FROM cases").int(0, 0) == 5 }
        XCTAssertEqual(daemon.terminate(), 0)
        // Seven more while no daemon runs: the lag.
        try DaemonHarness.produce(try (5..<12).map { try message("DISPATCH", "HFST\($0)", at: Date()) },
                                  topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)

        let r = try gridloopd(binDir, ["status", "--json"], env)
        XCTAssertEqual(r.status, 0, r.err)
        let status = try jsonObject(r.out)
        let partitions = try XCTUnwrap(status["partitions"] as? [[String: Any]])
        XCTAssertFalse(partitions.isEmpty)
        let lag = partitions.compactMap { $0["lag"] as? Int }.reduce(0, +)
        XCTAssertEqual(lag, 7, "the messages produced while no daemon ran")
        XCTAssertNil(status["brokerProblem"])
        XCTAssertEqual((status["openCasesByLevel"] as? [String: Int])?["ESTATE"], 5)
        XCTAssertEqual(status["outboxBacklog"] as? Int, 0)
        XCTAssertEqual(status["deadLettersToday"] as? Int, 0)
        let table = try gridloopd(binDir, ["status"], env)
        XCTAssertTrue(table.out.contains("ESTATE 5"), table.out)

        // Once a daemon has caught up, no lag.
        let again = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "status-2")
        try eventually("12 cases applied") { try db.query("SELECT count(*) FROM cases").int(0, 0) == 12 }
        XCTAssertEqual(again.terminate(), 0)
        let after = try jsonObject(try gridloopd(binDir, ["status", "--json"], env).out)
        XCTAssertEqual((after["partitions"] as? [[String: Any]])?.compactMap { $0["lag"] as? Int }.reduce(0, +), 0)
    }

    /// `case show --json`: a climbing case's clocks with deadlines and used share, and the events
    /// emitted for it, published.
    func testCaseShowHasTheClocksAndTheEmittedEvents() throws {
        let (binDir, broker, database, env) = try setUpLadder("people_case")
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "case-show")
        try DaemonHarness.produce([try message("DISPATCH", "HFSHOW", at: Date())],
                                  topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        let db = try PostgresConnection(database)
        try eventually("escalated to COMMUNITY and published") {
            try db.query("SELECT count(*) FROM sla_decisions WHERE case_id = '12345:HFSHOW' AND type = 'gridloop.case.escalated'").int(0, 0)! >= 1
                && db.query("SELECT count(*) FROM outbox WHERE sent_at IS NULL").int(0, 0) == 0
        }
        XCTAssertEqual(daemon.terminate(), 0)
        let r = try gridloopd(binDir, ["case", "show", "12345:HFSHOW", "--json"], env)
        XCTAssertEqual(r.status, 0, r.err)
        let view = try jsonObject(r.out)
        XCTAssertEqual(view["caseId"] as? String, "12345:HFSHOW")
        let level = try XCTUnwrap(view["level"] as? String)
        XCTAssertNotEqual(level, "ESTATE", "it climbed")
        let clocks = try XCTUnwrap(view["clocks"] as? [[String: Any]])
        let sign = try XCTUnwrap(clocks.first { $0["kind"] as? String == "SIGN" }, "the sign clock at the new level")
        XCTAssertEqual(sign["level"] as? String, level)
        XCTAssertEqual(sign["limit"] as? String, "3s")
        XCTAssertTrue((sign["deadline"] as? String)?.hasSuffix("+08:00") == true, "\(sign)")
        XCTAssertNotNil(sign["usedShare"] as? Double)
        let emitted = try XCTUnwrap(view["emitted"] as? [[String: Any]])
        let first = try XCTUnwrap(emitted.first { $0["type"] as? String == "gridloop.case.escalated" })
        XCTAssertEqual(first["level"] as? String, "ESTATE")
        XCTAssertEqual(first["toLevel"] as? String, "COMMUNITY")
        XCTAssertNotNil(first["publishedAt"], "published")
        XCTAssertTrue(emitted.contains { $0["type"] as? String == "gridloop.case.supervision.warning" })
        let text = try gridloopd(binDir, ["case", "show", "12345:HFSHOW"], env).out
        XCTAssertTrue(text.contains("clocks at \(level)") && text.contains("emitted:"), text)
    }

    /// `report 721` agrees with a count done from the `gridloop.case.resolved` events that
    /// subscribers received (another path than the report's SQL).
    func testReport721AgreesWithTheResolvedEventsPublished() throws {
        let (binDir, broker, database, env) = try setUpLadder("people_721")
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "721")
        // Orders signed and closed at different levels: some in time, some after climbing.
        let start = Date().addingTimeInterval(-3600)
        var feed: [(key: [UInt8]?, value: [UInt8])] = []
        let plan: [(String, Double)] = (0..<24).map { ("HF721N\($0)", [1.0, 2.0, 4.0, 7.0, 10.0, 13.0][$0 % 6]) }
        for (no, _) in plan { feed.append(try message("DISPATCH", no, at: start)) }
        for (no, signAfter) in plan {
            feed.append(try message("SIGN", no, at: start.addingTimeInterval(signAfter), order: ["unitCode": "X"]))
            feed.append(try message("REPLY", no, at: start.addingTimeInterval(signAfter + 1),
                                    order: ["unitCode": "X", "result": "RESOLVED", "content": "已处理"]))
            feed.append(try message("VISIT", no, at: start.addingTimeInterval(signAfter + 2),
                                    order: ["satisfaction": "SATISFIED"]))
        }
        try DaemonHarness.produce(feed, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: feed.count, daemon: daemon)
        XCTAssertEqual(daemon.terminate(), 0)

        let resolvedEvents = try read(topic: "gridloop.outcomes", brokers: broker.bootstrap, atLeast: 1)
        var lastLevel: [String: (String, String)] = [:]  // case -> (resolvedAt, level)
        for e in resolvedEvents {
            let d = data(e)
            guard let c = e["subject"] as? String, let at = d["resolvedAt"] as? String, let l = d["resolvedLevel"] as? String else { continue }
            if (lastLevel[c]?.0 ?? "") <= at { lastLevel[c] = (at, l) }
        }
        XCTAssertEqual(lastLevel.count, plan.count, "every order resolved once")
        var expected: [String: Int] = [:]
        for (_, l) in lastLevel.values { expected[l, default: 0] += 1 }
        XCTAssertGreaterThan(expected.count, 1, "resolved at more than one level")

        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        let day = f.string(from: start), next = f.string(from: start.addingTimeInterval(86_400))
        let html = FileManager.default.temporaryDirectory.appendingPathComponent("721-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: html) }
        let r = try gridloopd(binDir, ["report", "721", "--from", day, "--to", next, "--by", "community", "--json", "--html", html.path], env)
        XCTAssertEqual(r.status, 0, r.err)
        let report = try jsonObject(r.out)
        XCTAssertEqual(report["resolved"] as? Int, plan.count)
        let levels = try XCTUnwrap(report["levels"] as? [[String: Any]])
        for l in levels {
            XCTAssertEqual(l["resolved"] as? Int, expected[l["level"] as! String] ?? 0, "\(l)")
        }
        let targets = try XCTUnwrap(report["targets"] as? [[String: Any]])
        let low = Double((expected["ESTATE"] ?? 0) + (expected["COMMUNITY"] ?? 0)) / Double(plan.count)
        XCTAssertEqual(targets.first { $0["tier"] as? String == "ESTATE+COMMUNITY" }?["actual"] as? Double ?? -1, low, accuracy: 0.0001)
        XCTAssertEqual(targets.map { $0["target"] as? Double ?? 0 }, [0.7, 0.2, 0.1])
        XCTAssertEqual((report["units"] as? [[String: Any]])?.first?["resolved"] as? Int, plan.count, "one community, all its cases")
        let page = try String(contentsOf: html, encoding: .utf8)
        XCTAssertTrue(page.contains("<svg") && page.contains("721"), "an HTML page with a chart")
        XCTAssertFalse(page.contains("<script") || page.contains("http://") && !page.contains("http://www.w3.org/2000/svg"),
                       "self-contained")
        // Outside the period: nothing.
        let empty = try jsonObject(try gridloopd(binDir, ["report", "721", "--from", "2020-01-01", "--to", "2020-01-31", "--json"], env).out)
        XCTAssertEqual(empty["resolved"] as? Int, 0)
        let bad = try gridloopd(binDir, ["report", "721", "--from", "yesterday", "--to", day], env)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("--from"), bad.err)
    }

    /// `dlq retry`: a message dead-lettered for want of its DISPATCH is applied once re-driven
    /// after the DISPATCH came; a damaged one is dead-lettered again as a new row; a second
    /// retry of the same dead letter is refused.
    func testDeadLettersAreReDrivenOnce() throws {
        let (binDir, broker, database, env) = try setUpLadder("people_dlq", sign: "3600s")
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "dlq")
        defer { daemon.terminate() }
        let sign = try message("SIGN", "HFORPHAN", at: Date(), order: ["unitCode": "E1"])
        try DaemonHarness.produce([sign, (Array("HFBROKEN".utf8), Array("{\"msgId\": \"x\", ".utf8))],
                                  topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        let db = try PostgresConnection(database)
        try eventually("both dead-lettered (the orphan after the hold)") {
            try db.query("SELECT count(*) FROM dead_letters").int(0, 0) == 2
        }
        let orphan = try XCTUnwrap(db.query("SELECT id FROM dead_letters WHERE reason LIKE '%never dispatched%'").int64(0, 0))
        let broken = try XCTUnwrap(db.query("SELECT id FROM dead_letters WHERE id <> $1", [String(orphan)]).int64(0, 0))
        try DaemonHarness.produce([try message("DISPATCH", "HFORPHAN", at: Date())],
                                  topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try eventually("the order exists") { try db.query("SELECT count(*) FROM cases").int(0, 0) == 1 }

        let r = try gridloopd(binDir, ["dlq", "retry", String(orphan), String(broken)], env)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("dead letter \(orphan) published again"), r.out)
        try eventually("the SIGN is applied now") {
            try db.query("SELECT count(*) FROM cases WHERE case_id = '12345:HFORPHAN' AND status = 'SIGNED'").int(0, 0) == 1
        }
        try eventually("the damaged one is a dead letter again, with a new id") {
            try db.query("SELECT count(*) FROM dead_letters").int(0, 0) == 3
        }
        let again = try gridloopd(binDir, ["dlq", "retry", String(orphan)], env)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.err.contains("retried already"), again.err)
        let list = try gridloopd(binDir, ["dlq", "list", "--json"], env)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.filter { $0["retriedAt"] != nil }.count, 2)
        XCTAssertEqual(daemon.terminate(), 0)
    }
}
