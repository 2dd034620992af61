import Foundation
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// Running gridloopd as a service: the systemd unit, and reloading on SIGHUP.
final class ServiceTests: XCTestCase {
    /// Runs a program and returns its exit status and combined output.
    func run(
        _ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]
    ) throws -> (Int32, String) {
        let p = Process()
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = directory }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        p.waitUntilExit()
        try handle.close()
        return (p.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
    }

    /// `deploy/gridloopd.service` passes `systemd-analyze verify` and rates "OK" or better in
    /// `systemd-analyze security` (exposure at most 2.0), where systemd is installed.
    func testUnitFileVerifiesAndIsHardened() throws {
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { throw XCTSkip("systemd is not installed") }
        let (_, binDir) = try TestEnvironment.require()
        // verify checks that ExecStart exists: point it at the binary just built.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let unit = try String(
            contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("deploy/gridloopd.service"), encoding: .utf8)
        XCTAssertTrue(unit.contains("ExecStart=/usr/local/bin/gridloopd run"))
        try unit.replacingOccurrences(of: "/usr/local/bin/gridloopd", with: binDir + "/gridloopd")
            .write(to: dir.appendingPathComponent("gridloopd.service"), atomically: true, encoding: .utf8)

        let (verified, verifyOutput) = try run(analyze, ["verify", "./gridloopd.service"], in: dir)
        XCTAssertEqual(verified, 0, verifyOutput)
        XCTAssertFalse(verifyOutput.contains("gridloopd.service:"), "verify complains about the unit: \(verifyOutput)")

        let (_, security) = try run(analyze, ["security", "--offline=true", "./gridloopd.service"], in: dir)
        guard let r = security.range(of: #"Overall exposure level for gridloopd.service: [0-9.]+"#, options: .regularExpression)
        else {
            return XCTFail("no exposure level in: \(security.suffix(500))")
        }
        let exposure = Double(security[r].split(separator: " ").last!)!
        XCTAssertLessThanOrEqual(exposure, 2.0, "systemd-analyze security rates the unit worse than OK")

        for required in [
            "Type=notify", "WatchdogSec=", "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict",
            "PrivateTmp=yes", "CapabilityBoundingSet=\n", "RestrictAddressFamilies=", "LoadCredential=database-password",
            "RestartPreventExitStatus=78\n",
        ] {
            XCTAssertTrue(unit.contains(required), "the unit sets \(required)")
        }
        XCTAssertFalse(unit.lowercased().contains("password="), "no secret on a command line or in Environment=")
    }

    /// What systemd and an operator see when start-up fails (docs/OPERATIONS.md, "Exit status"):
    /// a refused file exits 78 (the unit does not restart it) with one journald line at error
    /// priority naming the file, line and key, and no usage text; only a usage error gets usage
    /// text (64); any other start-up failure is one error line and exit 1.
    func testStartUpFailuresExitWithTheirStatusAndOneErrorLine() throws {
        let (_, binDir) = try TestEnvironment.require()
        let gridloopd = binDir + "/gridloopd"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("gridloopd.yaml")
        try "kafka:\n  brokers: localhost:9092\n  consumerGruop: x\n".write(to: config, atomically: true, encoding: .utf8)

        for command in [["run"], ["check-config"], ["status"]] {
            let (status, output) = try run(gridloopd, command + ["--config", config.path])
            XCTAssertEqual(status, 78, "\(command): \(output)")
            let lines = output.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, output)
            XCTAssertTrue(
                output.hasPrefix("<3>configuration refused: \(config.path):3: kafka.consumerGruop: unknown key"), output)
            XCTAssertTrue(output.contains(" file=\(config.path) key=kafka.consumerGruop line=3"), output)
            XCTAssertFalse(output.contains("Usage:"), output)
        }
        // A policy file refused is a configuration error too.
        let policy = dir.appendingPathComponent("policy.yaml")
        try "levels:\n  ESTATE: {sign: 1wx}\n".write(to: policy, atomically: true, encoding: .utf8)
        try "sla:\n  policyFile: \(policy.path)\n".write(to: config, atomically: true, encoding: .utf8)
        let (policyStatus, policyOutput) = try run(gridloopd, ["check-config", "--config", config.path])
        XCTAssertEqual(policyStatus, 78, policyOutput)
        XCTAssertTrue(policyOutput.hasPrefix("<3>SLA policy, calendar or unit directory refused: \(policy.path)"), policyOutput)

        // ArgumentParser's own requests still end as it ends them: `help` is not a failure.
        let (helpStatus, help) = try run(gridloopd, ["help", "run"])
        XCTAssertEqual(helpStatus, 0, help)
        XCTAssertTrue(help.contains("OVERVIEW: Run the daemon"), help)

        let (usageStatus, usage) = try run(gridloopd, ["run", "--no-such-option"])
        XCTAssertEqual(usageStatus, 64, usage)
        XCTAssertTrue(usage.contains("Usage: gridloopd run"), usage)

        let (downStatus, down) = try run(
            gridloopd, ["status"],
            environment: ["GRIDLOOP_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"])
        XCTAssertEqual(downStatus, 1, down)
        XCTAssertTrue(down.hasPrefix("<3>cannot connect to the database"), down)
        XCTAssertFalse(down.contains("Usage:"), down)
    }

    /// `deploy/gridloopd-scorecard.timer` and its service pass `systemd-analyze verify`; the
    /// timer fires daily at 09:00 Beijing time (the service decides whether it is the month's
    /// first working day), catches up after downtime, and the service is hardened like the daemon.
    func testScorecardTimerVerifies() throws {
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { throw XCTSkip("systemd is not installed") }
        let (_, binDir) = try TestEnvironment.require()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("timer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let deploy = TestEnvironment.repositoryRoot.appendingPathComponent("deploy")
        let service = try String(contentsOf: deploy.appendingPathComponent("gridloopd-scorecard.service"), encoding: .utf8)
        let timer = try String(contentsOf: deploy.appendingPathComponent("gridloopd-scorecard.timer"), encoding: .utf8)
        XCTAssertTrue(service.contains("ExecStart=/usr/local/bin/gridloopd report scorecard --publish --scheduled"))
        try service.replacingOccurrences(of: "/usr/local/bin/gridloopd", with: binDir + "/gridloopd")
            .write(to: dir.appendingPathComponent("gridloopd-scorecard.service"), atomically: true, encoding: .utf8)
        try timer.write(to: dir.appendingPathComponent("gridloopd-scorecard.timer"), atomically: true, encoding: .utf8)
        let (verified, output) = try run(
            analyze, ["verify", "./gridloopd-scorecard.timer", "./gridloopd-scorecard.service"], in: dir)
        XCTAssertEqual(verified, 0, output)
        XCTAssertFalse(output.contains("gridloopd-scorecard."), "verify complains: \(output)")
        for required in ["OnCalendar=*-*-* 09:00:00 Asia/Shanghai", "Persistent=true", "Unit=gridloopd-scorecard.service"] {
            XCTAssertTrue(timer.contains(required), "the timer sets \(required)")
        }
        let (calendar, next) = try run(analyze, ["calendar", "--iterations=2", "*-*-* 09:00:00 Asia/Shanghai"])
        XCTAssertEqual(calendar, 0, next)
        XCTAssertTrue(
            next.contains("01:00:00 UTC") || next.contains("09:00:00 CST"), "09:00 in Beijing is 01:00 UTC: \(next)")
        let (_, security) = try run(analyze, ["security", "--offline=true", "./gridloopd-scorecard.service"], in: dir)
        guard
            let r = security.range(
                of: #"Overall exposure level for gridloopd-scorecard.service: [0-9.]+"#, options: .regularExpression)
        else {
            return XCTFail("no exposure level in: \(security.suffix(500))")
        }
        XCTAssertLessThanOrEqual(Double(security[r].split(separator: " ").last!)!, 2.0, "hardened like the daemon")
    }

    /// SIGHUP re-reads the configuration and the policy: an invalid policy is refused with its
    /// file and line and the running one kept; a valid one is applied; the daemon keeps running.
    func testReloadRefusesABadPolicyAndAppliesAGoodOne() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("service_reload")
        let broker = try TestBroker(
            binDir: binDir,
            topics: TestBroker.gridloopTopics)
        var env = DaemonHarness.environment(broker: broker, database: database)
        env["GRIDLOOP_LOG_LEVEL"] = nil  // the file's level, so that a reload can change it
        try DaemonHarness.migrate(binDir, env)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = dir.appendingPathComponent("policy.yaml")
        let good = try String(
            contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("deploy/policy.yaml"), encoding: .utf8)
        try good.write(to: policy, atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("gridloopd.yaml")
        try "sla:\n  policyFile: \(policy.path)\nlog:\n  level: info\n".write(to: config, atomically: true, encoding: .utf8)

        let daemon = try ChildProcess(binDir + "/gridloopd", ["run", "--config", config.path], environment: env, label: "reload")
        let port = try DaemonHarness.httpPort(daemon)

        // A typo in the policy: refused, with the file and the line, and the daemon carries on.
        let bad = good.replacingOccurrences(
            of: "ESTATE: {sign: 2wh, handle: 2wd}", with: "ESTATE: {sign: 2 fortnights, handle: 2wd}")
        XCTAssertNotEqual(bad, good)
        try bad.write(to: policy, atomically: true, encoding: .utf8)
        let badLine = bad.components(separatedBy: "\n").firstIndex { $0.contains("fortnights") }! + 1
        kill(daemon.process.processIdentifier, SIGHUP)
        try eventually("the reload is refused") { daemon.log.contains("reload refused") }
        let refusal = daemon.log.components(separatedBy: "\n").first { $0.contains("reload refused") }!
        XCTAssertTrue(refusal.hasPrefix("<3>"), "logged as an error for journald: \(refusal)")
        XCTAssertTrue(refusal.contains("\(policy.path):\(badLine)"), "names the file and line: \(refusal)")
        XCTAssertTrue(daemon.isRunning)

        // Fixed, and the log level lowered: applied.
        try good.write(to: policy, atomically: true, encoding: .utf8)
        try "sla:\n  policyFile: \(policy.path)\nlog:\n  level: warning\n".write(to: config, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try eventually("the reload is applied") { daemon.log.contains("configuration reloaded") }
        let metrics = try PrometheusText(try XCTUnwrap(httpGet(port: port, "/metrics")?.body))
        XCTAssertEqual(metrics.sum("gridloop_config_reloads_total", ["result": "refused"]), 1)
        XCTAssertEqual(metrics.sum("gridloop_config_reloads_total", ["result": "applied"]), 1)
        XCTAssertEqual(daemon.terminate(), 0)
        // At warning level, the stop (a notice) is no longer logged.
        XCTAssertFalse(daemon.log.contains("gridloopd stopped"), "the reloaded log level applies")
    }
}
