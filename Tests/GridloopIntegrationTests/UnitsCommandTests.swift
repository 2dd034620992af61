import Foundation
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// The unit directory as operators meet it: `gridloopd units list` and `units resolve` against
/// cases a daemon applied and units the feeds taught, and a damaged directory file refused at
/// start-up and on SIGHUP. (An extension of the SLA tests, whose set-up and message builder
/// they share.)
extension SLAIntegrationTests {
    /// A directory for the test orders (community 340111002003, street 340111002, category 0305
    /// 物业管理), one entry a line; UnitAttributionTests uses it too.
    static let unitsFile = """
        default: {unitCode: DCS340111, unitName: 包河区督查室}
        community:
          - {code: "340111002003", unitCode: C340111002003, unitName: 南门社区居委会}
        street:
          - {code: "340111002", unitCode: S340111002, unitName: 包公街道办事处}
        district:
          - {district: "340111", category: "03", unitCode: D340111-ZJ, unitName: 包河区住房和城乡建设局}

        """

    func writeUnits(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("units-\(UUID().uuidString).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Cases at each level, applied by a daemon; units learned by the feeds (rows of
    /// `learned_units`, as the intake records them): `units list` shows the file's entries with
    /// their lines, the learned units with their case, which learned unit the file overrides, and
    /// the default unit; `units resolve` names who would take each case one level up and why.
    func testUnitsListAndResolveShowTheDirectoryInForce() throws {
        let (binDir, broker, database, ladderEnv) = try setUpLadder("units_commands")
        let units = try writeUnits(Self.unitsFile)
        defer { try? FileManager.default.removeItem(at: units) }
        var env = ladderEnv
        env["GRIDLOOP_UNIT_DIRECTORY"] = units.path
        env["GRIDLOOP_SLA_ENABLED"] = "false"  // the cases stay at the level they were dispatched to

        let now = Date()
        func dispatch(
            _ no: String, level: String, category: String = "0305", street: String = "340111002",
            community: String = "340111002003"
        ) throws -> (key: [UInt8]?, value: [UInt8]) {
            try message(
                "DISPATCH", no, at: now,
                order: [
                    "assignee": ["unitCode": "U-\(no)", "unitName": "承办单位\(no)", "level": level],
                    "category": ["code": category, "name": "某类/某项"],
                    "location": [
                        "address": "包河区某小区1栋", "districtCode": "340111", "streetCode": street,
                        "communityCode": community, "gridCode": "\(community)-11",
                    ],
                ])
        }
        try DaemonHarness.produce(
            [
                try dispatch("HFU1", level: "ESTATE"),
                try dispatch("HFU2", level: "COMMUNITY", street: "340111009", community: "340111009001"),
                try dispatch("HFU3", level: "STREET"),
                try dispatch("HFU4", level: "STREET", category: "0901"),
                try dispatch("HFU5", level: "DISTRICT"),
            ], topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "units")
        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: 5, daemon: daemon)
        XCTAssertEqual(daemon.terminate(), 0)

        // What other feeds taught: the street of HFU2, and a community the file names otherwise.
        try db.execute(
            """
            INSERT INTO learned_units (level, code, unit_code, unit_name, case_id, learned_at) VALUES
              ('STREET', '340111009', 'S340111009', '骆岗街道办事处', '12345:HFOLD1', '2026-11-23T10:00:00+08:00'),
              ('COMMUNITY', '340111002003', 'C-OLD', '旧社区居委会', '12345:HFOLD2', '2026-11-23T11:00:00+08:00')
            """)

        let lines = Self.unitsFile.components(separatedBy: "\n")
        func origin(_ unitCode: String) -> String {
            "\(units.path):\(lines.firstIndex { $0.contains("unitCode: \(unitCode),") }! + 1)"
        }

        // units list --json: every entry, where it came from, and which learned unit is overridden.
        let list = try XCTUnwrap(try gridloopdJSON(binDir, ["units", "list"], env) as? [String: Any])
        XCTAssertEqual(list["directorySource"] as? String, units.path)
        XCTAssertEqual((list["defaultUnit"] as? [String: Any])?["unitCode"] as? String, "DCS340111")
        XCTAssertEqual(list["defaultOrigin"] as? String, origin("DCS340111"))
        let entries = try XCTUnwrap(list["entries"] as? [[String: Any]])
        func row(_ unitCode: String) -> [String: Any]? { entries.first { $0["unitCode"] as? String == unitCode } }
        // 3 lines of the file, 3 units the intake learned from the DISPATCHes above (HFU1's estate is
        // not a directory level), 2 inserted.
        XCTAssertEqual(entries.count, 8, "\(entries)")
        for code in ["C340111002003", "S340111002", "D340111-ZJ"] {
            XCTAssertEqual(row(code)?["source"] as? String, "directory")
            XCTAssertEqual(row(code)?["origin"] as? String, origin(code))
        }
        XCTAssertEqual(row("D340111-ZJ")?["category"] as? String, "03")
        XCTAssertEqual(row("S340111009")?["source"] as? String, "learned")
        XCTAssertEqual(row("S340111009")?["learnedFromCase"] as? String, "12345:HFOLD1")
        XCTAssertEqual(row("S340111009")?["learnedAt"] as? String, "2026-11-23T10:00:00+08:00")
        XCTAssertNil(row("S340111009")?["overriddenBy"] as? String)
        XCTAssertEqual(row("C-OLD")?["overriddenBy"] as? String, origin("C340111002003"), "the file wins")
        XCTAssertEqual(
            entries.map { $0["level"] as? String },
            ["COMMUNITY", "COMMUNITY", "COMMUNITY", "STREET", "STREET", "STREET", "DISTRICT", "DISTRICT"])
        // What the intake learned: the platform's own assignments at each directory level.
        XCTAssertEqual(row("U-HFU2")?["source"] as? String, "learned")
        XCTAssertEqual(row("U-HFU2")?["learnedFromCase"] as? String, "12345:HFU2")
        // HFU3 and HFU4 were assigned the same street at the same instant, on two partitions: one
        // row for the code, whichever the intake applied last, and the file wins over it.
        let learnedStreet = ["U-HFU3", "U-HFU4"].compactMap(row)
        XCTAssertEqual(learnedStreet.count, 1, "one learned unit per level and code: \(entries)")
        XCTAssertEqual(learnedStreet.first?["overriddenBy"] as? String, origin("S340111002"), "the file wins")
        XCTAssertEqual(row("U-HFU5")?["overriddenBy"] as? String, origin("D340111-ZJ"))

        // The table, one level.
        let street = try gridloopd(binDir, ["units", "list", "--level", "street"], env)
        XCTAssertEqual(street.status, 0, street.err)
        XCTAssertTrue(street.out.contains("default unit  DCS340111 包河区督查室"), street.out)
        XCTAssertTrue(street.out.contains("file \(origin("S340111002"))"), street.out)
        XCTAssertTrue(street.out.contains("learned from case 12345:HFOLD1 at 2026-11-23T10:00:00+08:00"), street.out)
        XCTAssertFalse(street.out.contains("C340111002003"), street.out)
        let community = try gridloopd(binDir, ["units", "list", "--level", "COMMUNITY"], env)
        XCTAssertTrue(community.out.contains("(overridden by \(origin("C340111002003")))"), community.out)
        let estate = try gridloopd(binDir, ["units", "list", "--level", "ESTATE"], env)
        XCTAssertNotEqual(estate.status, 0)
        XCTAssertTrue(estate.err.contains("expected COMMUNITY, STREET or DISTRICT"), estate.err)

        // units resolve: one level up from each case, and why.
        func resolve(_ no: String) throws -> [String: Any] {
            try XCTUnwrap(try gridloopdJSON(binDir, ["units", "resolve", "12345:\(no)"], env) as? [String: Any])
        }
        let u1 = try resolve("HFU1")
        XCTAssertEqual(u1["level"] as? String, "ESTATE")
        XCTAssertEqual((u1["assignee"] as? [String: Any])?["unitCode"] as? String, "U-HFU1")
        XCTAssertEqual(u1["nextLevel"] as? String, "COMMUNITY")
        XCTAssertEqual((u1["nextUnit"] as? [String: Any])?["unitCode"] as? String, "C340111002003")
        XCTAssertEqual(u1["resolvedBy"] as? String, "directory")
        XCTAssertEqual(u1["why"] as? String, "directory entry at \(origin("C340111002003"))")
        let u2 = try resolve("HFU2")
        XCTAssertEqual((u2["nextUnit"] as? [String: Any])?["unitCode"] as? String, "S340111009")
        XCTAssertEqual(u2["resolvedBy"] as? String, "learned")
        XCTAssertTrue((u2["why"] as? String ?? "").contains("12345:HFOLD1"), "\(u2)")
        let u3 = try resolve("HFU3")
        XCTAssertEqual((u3["nextUnit"] as? [String: Any])?["unitCode"] as? String, "D340111-ZJ")
        XCTAssertEqual(u3["resolvedBy"] as? String, "directory")
        let u4 = try resolve("HFU4")
        XCTAssertEqual((u4["nextUnit"] as? [String: Any])?["unitCode"] as? String, "DCS340111")
        XCTAssertEqual(u4["resolvedBy"] as? String, "default")
        XCTAssertTrue((u4["why"] as? String ?? "").contains("340111/0901"), "\(u4)")
        let u5 = try resolve("HFU5")
        XCTAssertNil(u5["nextLevel"] as? String)
        XCTAssertEqual(u5["why"] as? String, "already at DISTRICT: urges go to the current assignee")

        let text = try gridloopd(binDir, ["units", "resolve", "12345:HFU2"], env)
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertTrue(text.out.contains("one level up  STREET: S340111009 骆岗街道办事处"), text.out)
        XCTAssertTrue(text.out.contains("resolved by   learned (STREET streetCode 340111009)"), text.out)
        let top = try gridloopd(binDir, ["units", "resolve", "12345:HFU5"], env)
        XCTAssertTrue(top.out.contains("already at DISTRICT: urges go to the current assignee"), top.out)
        let missing = try gridloopd(binDir, ["units", "resolve", "12345:NOPE"], env)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("no case 12345:NOPE"), missing.err)
    }

    /// A damaged directory file: refused at start-up with its file and line (the daemon does not
    /// start), and on SIGHUP (logged with file and line, counted, the running directory kept);
    /// fixed, the next SIGHUP applies it.
    func testUnitsADamagedDirectoryIsRefusedAtStartAndOnReload() throws {
        let (binDir, _, _, ladderEnv) = try setUpLadder("units_reload")
        let units = try writeUnits(Self.unitsFile)
        defer { try? FileManager.default.removeItem(at: units) }
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("gridloopd-\(UUID().uuidString).yaml")
        try "units:\n  directory: \(units.path)\n".write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }
        var env = ladderEnv
        env["GRIDLOOP_LOG_LEVEL"] = "info"
        let damaged = Self.unitsFile.replacingOccurrences(of: "{code: \"340111002\",", with: "{code: 340111002,")
        XCTAssertNotEqual(damaged, Self.unitsFile)
        let badLine = damaged.components(separatedBy: "\n").firstIndex { $0.contains("code: 340111002,") }! + 1

        // At start-up: refused, with the file and line, like a bad policy.
        try damaged.write(to: units, atomically: true, encoding: .utf8)
        let start = try gridloopd(binDir, ["run", "--config", config.path], env)
        XCTAssertEqual(start.status, 78, start.err)  // EX_CONFIG: systemd does not restart it
        XCTAssertTrue(start.err.contains("unit directory refused: \(units.path):\(badLine): street[0].code"), start.err)
        let check = try gridloopd(binDir, ["check-config", "--config", config.path], env)
        XCTAssertEqual(check.status, 78)
        XCTAssertTrue(check.err.contains("\(units.path):\(badLine)"), check.err)

        // Running with a good file, then damaged: the reload is refused and the daemon carries on.
        try Self.unitsFile.write(to: units, atomically: true, encoding: .utf8)
        let daemon = try ChildProcess(
            binDir + "/gridloopd", ["run", "--config", config.path], environment: env, label: "units-reload")
        defer { daemon.terminate() }
        let port = try DaemonHarness.httpPort(daemon)
        try eventually("the directory is announced") {
            daemon.log.contains("units=\(units.path)")
                && daemon.log.contains("1 community, 1 street, 1 district entries; default DCS340111")
        }
        try damaged.write(to: units, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try eventually("the reload is refused") { daemon.log.contains("reload refused") }
        let refusal = daemon.log.components(separatedBy: "\n").first { $0.contains("reload refused") }!
        XCTAssertTrue(refusal.contains("\(units.path):\(badLine)"), "names the file and line: \(refusal)")
        XCTAssertTrue(daemon.isRunning)
        XCTAssertFalse(daemon.log.contains("configuration reloaded"), "nothing of the refused reload applied")

        // Fixed (and one community more): applied.
        let fixed = Self.unitsFile.replacingOccurrences(
            of: "community:\n", with: "community:\n  - {code: \"340111002001\", unitCode: C340111002001, unitName: 河滨社区居委会}\n")
        try fixed.write(to: units, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try eventually("the reload is applied") { daemon.log.contains("configuration reloaded") }
        try eventually("the new directory is announced") {
            daemon.log.contains("2 community, 1 street, 1 district entries; default DCS340111")
        }
        let metrics = try PrometheusText(try XCTUnwrap(httpGet(port: port, "/metrics")?.body))
        XCTAssertEqual(metrics.sum("gridloop_config_reloads_total", ["result": "refused"]), 1)
        XCTAssertEqual(metrics.sum("gridloop_config_reloads_total", ["result": "applied"]), 1)
        XCTAssertEqual(daemon.terminate(), 0)
    }
}
