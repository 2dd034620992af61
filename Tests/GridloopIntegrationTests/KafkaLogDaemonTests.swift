import Foundation
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// librdkafka's own lines in the daemon's log: with the journald priority of their level and
/// the key=value fields of every other line, never as librdkafka's raw `%3|...|FAIL|...` lines.
final class KafkaLogDaemonTests: XCTestCase {
    /// The lines of `log` that librdkafka printed itself (`%<level>|<time>|<facility>|...`).
    static func rawKafkaLines(_ log: String) -> [Substring] {
        log.split(separator: "\n").filter { $0.range(of: #"^%[0-7]\|"#, options: .regularExpression) != nil }
    }

    func testAnUnreachableBrokerIsAnErrorLineWithFacilityAndClient() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("kafka_log")
        // A broker for `migrate`'s environment only; the daemon is pointed at a closed port.
        let broker = try TestBroker(binDir: binDir, topics: [IntakeIntegrationTests.t12345, IntakeIntegrationTests.t12319])
        var env = DaemonHarness.environment(broker: broker, database: database)
        try DaemonHarness.migrate(binDir, env)
        env["GRIDLOOP_KAFKA_BROKERS"] = "127.0.0.1:9"
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "kafka-log")
        var failure: (priority: Int, message: String, fields: [String: String])?
        try eventually("librdkafka's refused connection in the daemon's log") {
            failure =
                daemon.log.split(separator: "\n").lazy
                .filter { $0.contains("librdkafka:") && $0.contains("fac=FAIL") }
                .compactMap { JournalLine.parse(String($0)) }.first
            return failure != nil
        }
        XCTAssertTrue(daemon.isRunning, "a broker that cannot be reached is not fatal")
        XCTAssertEqual(daemon.terminate(), 0)
        let line = try XCTUnwrap(failure)
        XCTAssertEqual(line.priority, 3, "librdkafka's level 3 (error) is journald's err: \(line)")
        XCTAssertEqual(line.fields["fac"], "FAIL")
        XCTAssertTrue(line.fields["client"]?.hasPrefix("gridloopd#") == true, "the client's name: \(line)")
        XCTAssertTrue(line.message.contains("127.0.0.1:9"), "\(line)")
        XCTAssertEqual(Self.rawKafkaLines(daemon.log), [], "no raw librdkafka line on the daemon's stderr")
        XCTAssertEqual(broker.child.terminate(), 0)
        XCTAssertEqual(Self.rawKafkaLines(broker.child.log), [], "nor on the development broker's")
    }
}
