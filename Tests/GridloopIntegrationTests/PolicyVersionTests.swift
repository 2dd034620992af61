import Foundation
import GridloopCore
import GridloopPostgres
import XCTest

/// Each clock records the version of the policy it started under: after a reload that changes a
/// limit, a case dispatched before keeps its limit and version, one dispatched after has the new
/// ones, `case show` says which policy each came from, and both versions are kept with their text.
extension SLAIntegrationTests {
    func testClocksRecordThePolicyVersionTheyStartedUnderAcrossAReload() throws {
        let first = ladderPolicy.replacingOccurrences(of: "sign: 3s", with: "sign: 10m")
        let second = ladderPolicy.replacingOccurrences(of: "sign: 3s", with: "sign: 20m")
        let (binDir, broker, database, env) = try setUpLadder("policy_versions", policy: first)
        let file = try XCTUnwrap(env["GRIDLOOP_POLICY_FILE"])
        let v1 = SLAPolicy.version(ofText: first)
        let v2 = SLAPolicy.version(ofText: second)
        XCTAssertNotEqual(v1, v2)

        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "policy-versions")
        let db = try PostgresConnection(database)
        let now = Date()
        try DaemonHarness.produce(
            [try message("DISPATCH", "PVBEFORE", at: now)], topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try DaemonHarness.waitUntilConsumed(db, total: 1, daemon: daemon)
        try eventually("the first version is recorded") {
            try db.query("SELECT count(*) FROM policy_versions WHERE version = $1", [v1]).int(0, 0) == 1
        }

        try second.write(toFile: file, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try eventually("the reload is applied") { daemon.log.contains("configuration reloaded") }
        try DaemonHarness.produce(
            [try message("DISPATCH", "PVAFTER", at: now.addingTimeInterval(1))], topic: IntakeIntegrationTests.t12345,
            brokers: broker.bootstrap)
        try DaemonHarness.waitUntilConsumed(db, total: 2, daemon: daemon)
        try eventually("the second version is recorded") {
            try db.query("SELECT count(*) FROM policy_versions WHERE version = $1", [v2]).int(0, 0) == 1
        }

        for (order, version, limit) in [("PVBEFORE", v1, "10m"), ("PVAFTER", v2, "20m")] {
            let shown = try jsonObject(try gridloopd(binDir, ["case", "show", "12345:\(order)", "--json"], env).out)
            let clocks = try XCTUnwrap(shown["clocks"] as? [[String: Any]])
            let sign = try XCTUnwrap(clocks.first { $0["kind"] as? String == "SIGN" })
            XCTAssertEqual(sign["limit"] as? String, limit, "\(order) keeps the limit it started with")
            XCTAssertEqual(sign["policyVersion"] as? String, version, order)
            XCTAssertTrue((sign["policySource"] as? String ?? "").hasPrefix("\(file), first used "), "\(sign)")
            let text = try gridloopd(binDir, ["case", "show", "12345:\(order)"], env).out
            XCTAssertTrue(text.contains("policy version \(version) (\(file), first used"), text)
        }
        let kept = try db.query("SELECT version, document FROM policy_versions ORDER BY first_used")
        XCTAssertEqual((0..<kept.count).map { kept.string($0, 0) }, [v1, v2])
        XCTAssertEqual(kept.count == 2 ? kept.string(1, 1) : nil, second, "the file's text, to read the version again")
        XCTAssertEqual(daemon.terminate(), 0)
    }

    /// The what-if self-consistency across a reload: cases dispatched under one policy climb
    /// the ladder after a reload under the next (their first limit the old one, the others the
    /// new), others are dispatched after it; `gridloopd whatif` replaying the day under the
    /// policy in force gives back every stored decision (id, type, instant), each assignment under
    /// the version its clock recorded.
    func testWhatIfReproducesTheStoredDecisionsAcrossAPolicyReload() throws {
        let first = ladderPolicy.replacingOccurrences(of: "sign: 3s", with: "sign: 8s")
        let second = ladderPolicy.replacingOccurrences(of: "sign: 3s", with: "sign: 5s")
        let (binDir, broker, database, env) = try setUpLadder("whatif_reload", policy: first)
        let file = try XCTUnwrap(env["GRIDLOOP_POLICY_FILE"])
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "whatif-reload")
        let db = try PostgresConnection(database)
        let start = Date()
        let before = try (0..<4).map { try message("DISPATCH", "WRA\($0)", at: start) }
        try DaemonHarness.produce(before, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try DaemonHarness.waitUntilConsumed(db, total: before.count, daemon: daemon)
        // The reload, before their estate limit (8 s) passes.
        try second.write(toFile: file, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try eventually("the reload is applied") { daemon.log.contains("configuration reloaded") }
        XCTAssertLessThan(Date().timeIntervalSince(start), 8, "reloaded before the first deadline (else the test proves less)")
        let after = try (0..<3).map { try message("DISPATCH", "WRB\($0)", at: Date()) }
        try DaemonHarness.produce(after, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try DaemonHarness.waitUntilConsumed(db, total: before.count + after.count, daemon: daemon)
        // Every case climbs to the district and is urged twice (cap 2).
        try eventually("every case urged twice", attempts: 900) {
            try db.query("SELECT count(*) FROM sla_decisions WHERE type = 'gridloop.case.supervision.urge'").int(0, 0)
                == 2 * (before.count + after.count)
        }
        sleep(3)
        XCTAssertEqual(daemon.terminate(), 0)

        // A case dispatched before: its estate limit was the first policy's, the next ones the second's.
        let steps = try db.query(
            """
            SELECT extract(epoch FROM d.decided_at - e.event_time)::int FROM sla_decisions d
            JOIN case_events e ON e.case_id = d.case_id AND e.event_no = 1
            WHERE d.case_id = '12345:WRA0' AND d.type = 'gridloop.case.escalated' ORDER BY d.decided_at
            """)
        XCTAssertEqual((0..<steps.count).map { steps.int($0, 0) }, [8, 13, 18], "8 s under the first, then 5 s under the second")
        let clock = try db.query("SELECT clock FROM case_clocks WHERE case_id = '12345:WRA0'").string(0, 0) ?? ""
        XCTAssertTrue(
            clock.contains("\"policyHistory\":\"1:\(SLAPolicy.version(ofText: first));2:\(SLAPolicy.version(ofText: second))\""),
            clock)

        let day = Self.shanghaiDay(start)
        let until = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-2))
        let w = try jsonObject(
            try gridloopd(
                binDir, ["whatif", "--policy", file, "--from", day, "--to", day, "--until", until, "--json"], env
            ).out)
        XCTAssertEqual(w["cases"] as? Int, before.count + after.count)
        let consistency = try XCTUnwrap(w["consistency"] as? [String: Any])
        let stored = try db.query("SELECT count(*) FROM sla_decisions").int(0, 0) ?? 0
        XCTAssertGreaterThanOrEqual(stored, 7 * (3 + 1 + 2), "per case: 3 escalations, an overdue, 2 urges, and warnings")
        XCTAssertEqual(consistency["stored"] as? Int, stored)
        XCTAssertEqual(consistency["reproduced"] as? Int, consistency["stored"] as? Int)
        XCTAssertEqual(consistency["missing"] as? Int, 0, "\(consistency["missingExamples"] ?? "")")
        XCTAssertEqual(consistency["extra"] as? Int, 0, "\(consistency["extraExamples"] ?? "")")
    }
}
