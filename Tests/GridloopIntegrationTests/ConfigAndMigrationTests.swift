import Foundation
import GridloopWorker
import XCTest

/// Configuration refusals name file, line, key and problem; the embedded migrations are the
/// ones in `schemas/migrations`. No servers needed.
final class ConfigAndMigrationTests: XCTestCase {
    func write(_ yaml: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gridloop-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testEmbeddedMigrationsMatchTheSQLFiles() throws {
        let dir = TestEnvironment.repositoryRoot.appendingPathComponent("schemas/migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted()
        XCTAssertEqual(files.map { String($0.dropLast(4)) }, Migrations.all.map(\.name),
                       "run scripts/embed-migrations.sh")
        for (file, m) in zip(files, Migrations.all) {
            let sql = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            XCTAssertEqual(sql.trimmingCharacters(in: .whitespacesAndNewlines),
                           m.sql.trimmingCharacters(in: .whitespacesAndNewlines), "\(file): run scripts/embed-migrations.sh")
        }
    }

    func testSampleConfigurationIsValid() throws {
        let path = TestEnvironment.repositoryRoot.appendingPathComponent("deploy/gridloopd.yaml").path
        let config = try GridloopConfig.load(file: path, environment: [:])
        XCTAssertEqual(config.topics.deadLetter, "gridloop.intake.dlq")
        XCTAssertEqual(config.holdSeconds, 30)
    }

    func testEnvironmentOverridesTheFile() throws {
        let path = try write("kafka:\n  brokers: a:1\n  consumerGroup: g1\n")
        let config = try GridloopConfig.load(file: path, environment: [
            "GRIDLOOP_KAFKA_BROKERS": "b:2", "GRIDLOOP_DATABASE_URL": "postgresql://x/y", "GRIDLOOP_TOPIC_DLQ": "dlq2",
        ])
        XCTAssertEqual(config.brokers, "b:2")
        XCTAssertEqual(config.consumerGroup, "g1")
        XCTAssertEqual(config.databaseURL, "postgresql://x/y")
        XCTAssertEqual(config.topics.deadLetter, "dlq2")
    }

    func testDefaultsWithoutAFile() throws {
        let config = try GridloopConfig.load(file: nil, environment: [:])
        XCTAssertEqual(config.topics.intake12345, "hotline.12345.workorders")
        XCTAssertEqual(config.topics.intake12319, "hotline.12319.cases")
    }

    func testRefusalsNameFileLineKeyAndProblem() throws {
        let cases: [(String, Int?, String, String)] = [
            ("kafka:\n  brokers: a:1\n  bogus: 1\n", 3, "kafka.bogus", "unknown key"),
            ("intake:\n  holdWait: soon\n", 2, "intake.holdWait", "expected a duration"),
            ("intake:\n  batchMaxMessages: -5\n", 2, "intake.batchMaxMessages", "whole number"),
            ("nonsense:\n  x: 1\n", 1, "nonsense", "unknown section"),
            ("kafka: [1, 2\n", nil, "(syntax)", "not valid YAML"),
            ("log:\n  level: loud\n", 2, "log.level", "expected one of"),
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
