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
        let v1 = String(SHA256.hex(first).prefix(16))
        let v2 = String(SHA256.hex(second).prefix(16))
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
}
