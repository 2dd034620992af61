import Foundation
import GridloopSettings
import GridloopTestSupport
import XCTest

/// Configuration refusals name file, line, key and problem; the embedded defaults are the files
/// in `deploy`. No servers needed.
final class ConfigurationTests: XCTestCase {
    func write(_ yaml: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gridloop-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testEmbeddedDefaultsMatchTheDeployFiles() throws {
        let root = Repository.root
        let policy = try String(contentsOf: root.appendingPathComponent("deploy/policy.yaml"), encoding: .utf8)
        XCTAssertEqual(
            policy.trimmingCharacters(in: .whitespacesAndNewlines),
            EmbeddedDefaults.policy.trimmingCharacters(in: .whitespacesAndNewlines),
            "deploy/policy.yaml: run scripts/gen/embed-defaults.sh")
        let dir = root.appendingPathComponent("deploy/calendars")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasPrefix("cn-") && $0.hasSuffix(".yaml") }.sorted()
        XCTAssertEqual(files, EmbeddedDefaults.calendars.map(\.name), "run scripts/gen/embed-defaults.sh")
        for (file, c) in zip(files, EmbeddedDefaults.calendars) {
            let yaml = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            XCTAssertEqual(
                yaml.trimmingCharacters(in: .whitespacesAndNewlines),
                c.yaml.trimmingCharacters(in: .whitespacesAndNewlines), "\(file): run scripts/gen/embed-defaults.sh")
        }
    }

    /// A member that died without leaving is given up after 6 s unless the operator says otherwise.
    func testTheConsumerSessionDefaultsAndTheirOverride() throws {
        let sample = try GridloopConfig.load(
            file: Repository.root.appendingPathComponent("deploy/gridloopd.yaml").path, environment: [:])
        XCTAssertEqual(sample.consumerConfiguration["session.timeout.ms"], "6000")
        XCTAssertEqual(sample.consumerConfiguration["heartbeat.interval.ms"], "2000")
        let path = try write("kafka:\n  consumerProperties:\n    session.timeout.ms: \"30000\"\n")
        let config = try GridloopConfig.load(file: path, environment: [:])
        XCTAssertEqual(config.consumerConfiguration["session.timeout.ms"], "30000")
        XCTAssertEqual(config.consumerConfiguration["heartbeat.interval.ms"], "2000")
    }

    func testSLAKeysFromTheFileAndTheEnvironment() throws {
        let sample = try GridloopConfig.load(
            file: Repository.root.appendingPathComponent("deploy/gridloopd.yaml").path, environment: [:])
        XCTAssertNil(sample.policyFile)
        XCTAssertNil(sample.calendarDirectory)
        XCTAssertEqual(sample.officeHours, GridloopConfig.defaultOfficeHours)

        let path = try write(
            "sla:\n  policyFile: /etc/p.yaml\n  calendarDirectory: /etc/cal\n  officeHours:\n    - 08:00-12:00\n    - \"14:00-24:00\"\n"
        )
        let config = try GridloopConfig.load(file: path, environment: [:])
        XCTAssertEqual(config.policyFile, "/etc/p.yaml")
        XCTAssertEqual(config.calendarDirectory, "/etc/cal")
        XCTAssertEqual(config.officeHours, [480..<720, 840..<1440])
        let env = try GridloopConfig.load(
            file: path,
            environment: [
                "GRIDLOOP_POLICY_FILE": "/srv/p.yaml", "GRIDLOOP_CALENDAR_DIR": "/srv/cal",
                "GRIDLOOP_OFFICE_HOURS": "09:00-17:00",
            ])
        XCTAssertEqual(env.policyFile, "/srv/p.yaml")
        XCTAssertEqual(env.calendarDirectory, "/srv/cal")
        XCTAssertEqual(env.officeHours, [540..<1020])
        XCTAssertEqual(GridloopConfig.describe(officeHours: config.officeHours), "08:00-12:00, 14:00-24:00")

        let refusals: [(String, Int?, String)] = [
            ("sla:\n  officeHours:\n    - 09:00-12:00\n    - 13:30-12:00\n", 4, "start before end"),
            ("sla:\n  officeHours:\n    - 09:00-12:00\n    - 11:00-13:00\n", 4, "overlaps"),
            ("sla:\n  officeHours:\n    - 9-12\n", 3, "HH:mm-HH:mm"),
            ("sla:\n  officeHours:\n    - 09:00-24:30\n", 3, "HH:mm-HH:mm"),
            ("sla:\n  officeHours: []\n", 2, "at least one range"),
            ("sla:\n  officeHours: 09:00-12:00,25:00-26:00\n", 2, "got '25:00-26:00'"),
        ]
        for (yaml, line, problem) in refusals {
            let path = try write(yaml)
            XCTAssertThrowsError(try GridloopConfig.load(file: path, environment: [:]), yaml) { error in
                guard let e = error as? ConfigError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.key, "sla.officeHours", "\(e)")
                XCTAssertEqual(e.line, line, "\(e)")
                XCTAssertTrue(e.problem.contains(problem), "\(e)")
            }
        }
        XCTAssertThrowsError(try GridloopConfig.load(file: nil, environment: ["GRIDLOOP_OFFICE_HOURS": "all day"])) { error in
            XCTAssertTrue("\(error)".contains("GRIDLOOP_OFFICE_HOURS"), "\(error)")
        }
    }

    func testSampleConfigurationIsValid() throws {
        let path = Repository.root.appendingPathComponent("deploy/gridloopd.yaml").path
        let config = try GridloopConfig.load(file: path, environment: [:])
        XCTAssertEqual(config.topics.deadLetter, "gridloop.intake.dlq")
        XCTAssertEqual(config.holdSeconds, 30)
    }

    func testEnvironmentOverridesTheFile() throws {
        let path = try write("kafka:\n  brokers: a:1\n  consumerGroup: g1\n")
        let config = try GridloopConfig.load(
            file: path,
            environment: [
                "GRIDLOOP_KAFKA_BROKERS": "b:2", "GRIDLOOP_DATABASE_URL": "postgresql://x/y", "GRIDLOOP_TOPIC_DLQ": "dlq2",
            ])
        XCTAssertEqual(config.brokers, "b:2")
        XCTAssertEqual(config.consumerGroup, "g1")
        XCTAssertEqual(config.databaseURL, "postgresql://x/y")
        XCTAssertEqual(config.topics.deadLetter, "dlq2")
    }

    func testDefaultsWithoutAFile() throws {
        let config = try GridloopConfig.load(file: nil, environment: [:])
        XCTAssertEqual(config.digestAt, 8 * 60 + 30, "the morning digest at 08:30")
        XCTAssertEqual(config.digestThreshold, 0.5)
        XCTAssertEqual(config.forecastHistoryMaxHandlings, 100_000)
        XCTAssertEqual(config.cacheMemoryBytes, 64 << 20, "the intake cache's budget: 64MB")
        XCTAssertEqual(
            try GridloopConfig.load(file: nil, environment: ["GRIDLOOP_CACHE_MEMORY": "1GB"]).cacheMemoryBytes, 1 << 30)
        XCTAssertEqual(try GridloopConfig.load(file: nil, environment: ["GRIDLOOP_FORECAST_DIGEST_AT": "07:45"]).digestAt, 465)
        XCTAssertEqual(config.topics.intake12345, "hotline.12345.workorders")
        XCTAssertEqual(config.topics.intake12319, "hotline.12319.cases")
    }

    func testRefusalsNameFileLineKeyAndProblem() throws {
        let cases: [(String, Int?, String, String)] = [
            ("kafka:\n  brokers: a:1\n  bogus: 1\n", 3, "kafka.bogus", "unknown key"),
            ("intake:\n  holdWait: soon\n", 2, "intake.holdWait", "expected a duration"),
            ("intake:\n  batchMaxMessages: -5\n", 2, "intake.batchMaxMessages", "whole number"),
            ("intake:\n  cacheMemory: 8MB\n", 2, "intake.cacheMemory", "16MB to 16GB"),
            ("intake:\n  cacheMemory: lots\n", 2, "intake.cacheMemory", "such as 64MB"),
            ("nonsense:\n  x: 1\n", 1, "nonsense", "unknown section"),
            ("kafka: [1, 2\n", nil, "(syntax)", "not valid YAML"),
            ("log:\n  level: loud\n", 2, "log.level", "expected one of"),
            ("intake:\n  batchMaxWait: 50ms\n  onOffsetGap: skip\n", 3, "intake.onOffsetGap", "expected continue or stop"),
            ("forecast:\n  digestAt: \"8:30\"\n", 2, "forecast.digestAt", "expected a time of day HH:MM"),
            ("forecast:\n  digestAt: \"08:30\"\n  digestThreshold: 1.5\n", 3, "forecast.digestThreshold", "from 0 to 1"),
            ("forecast:\n  historyMaxHandlings: 5\n", 2, "forecast.historyMaxHandlings", "at least 10"),
        ]
        for (yaml, line, key, problem) in cases {
            let path = try write(yaml)
            XCTAssertThrowsError(try GridloopConfig.load(file: path, environment: [:]), yaml) { error in
                guard let e = error as? ConfigError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.file, path)
                if let line { XCTAssertEqual(e.line, line, "\(e)") }
                XCTAssertEqual(e.key, key, "\(e)")
                XCTAssertTrue(e.problem.contains(problem), "\(e)")
                XCTAssertTrue(e.description.hasPrefix(path), "\(e)")
            }
        }
    }

    func testBadEnvironmentValueIsNamed() {
        XCTAssertThrowsError(try GridloopConfig.load(file: nil, environment: ["GRIDLOOP_HOLD_WAIT": "forever"])) { error in
            XCTAssertTrue("\(error)".contains("GRIDLOOP_HOLD_WAIT"), "\(error)")
        }
    }
}
