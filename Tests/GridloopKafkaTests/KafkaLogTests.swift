import Foundation
import GridloopCore
import GridloopKafka
import Synchronization
import XCTest

// Threading: the sink runs on librdkafka's threads; the lines it collects are behind a Mutex
// that the test thread reads.

/// librdkafka's own log lines reach the process's `KafkaLog` sink, with their level and
/// facility, from every kind of handle, instead of being printed on stderr.
final class KafkaLogTests: XCTestCase {
    /// The lines of clients whose name starts with the test's prefix.
    final class Collected: Sendable {
        let lines = Mutex<[KafkaLogLine]>([])
        func of(_ prefix: String) -> [KafkaLogLine] { lines.withLock { $0.filter { $0.client.hasPrefix(prefix) } } }
    }

    func testAnUnreachableBrokerIsLoggedThroughTheSinkAsAnErrorWithItsFacility() throws {
        let collected = Collected()
        KafkaLog.bootstrap { line in collected.lines.withLock { $0.append(line) } }
        defer { KafkaLog.bootstrap(KafkaLog.standardError) }
        let id = "logtest-\(UUID().uuidString.prefix(8))"
        // Port 1 on loopback: nothing listens, every connection is refused at once.
        let unreachable = ["bootstrap.servers": "127.0.0.1:1", "reconnect.backoff.ms": "50"]

        let producer = try KafkaProducer(configuration: unreachable.merging(["client.id": "\(id)-p"]) { $1 })
        let results = try producer.send([ProducerRecord(topic: "t", key: nil, value: [1])], timeout: .milliseconds(300))
        XCTAssertEqual(results.count, 1)
        final class NoRebalance: KafkaRebalanceHandler {
            func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] { [:] }
            func revoked(_ partitions: [TopicPartition]) {}
        }
        let member = try KafkaConsumer(
            configuration: unreachable.merging(["client.id": "\(id)-g", "group.id": id]) { $1 },
            topics: ["t"], rebalanceHandler: NoRebalance(), errorHandler: { _ in })
        defer { member.close() }
        let reader = try KafkaConsumer(
            configuration: unreachable.merging(["client.id": "\(id)-r", "group.id": id]) { $1 },
            reading: [TopicPartition(topic: "t", partition: 0): 0], errorHandler: { _ in })
        defer { reader.close() }

        for _ in 0..<100 {
            _ = try member.poll(maxMessages: 1, timeout: .milliseconds(50))
            _ = try reader.poll(maxMessages: 1, timeout: .milliseconds(50))
            let clients = Set(collected.of(id).filter { $0.level == .error }.map(\.client))
            if clients.count == 3 { break }
        }
        let lines = collected.of(id)
        let failures = lines.filter { $0.level == .error && $0.message.contains("127.0.0.1:1") }
        for suffix in ["p", "g", "r"] {
            let client = failures.first { $0.client.hasPrefix("\(id)-\(suffix)#") }
            XCTAssertNotNil(client, "a refused connection of \(id)-\(suffix) arrives as an error line: \(lines)")
        }
        // librdkafka 2.0.2 logs a refused connection as `%3|...|FAIL|<client>| ... Connection refused`.
        let producerLine = try XCTUnwrap(
            failures.first { $0.client.hasPrefix("\(id)-p#producer-") && $0.facility == "FAIL" },
            "the producer's refused connection, facility FAIL: \(lines)")
        XCTAssertEqual(producerLine.level, .error)
        XCTAssertTrue(producerLine.message.contains("Connection refused"), "\(producerLine)")
        XCTAssertFalse(producerLine.message.hasPrefix("%"), "the message is the text alone: \(producerLine)")
    }

    func testLevelsKeepSyslogOrder() {
        XCTAssertEqual(KafkaLogLevel(syslog: 3), .error)
        XCTAssertEqual(KafkaLogLevel(syslog: 7), .debug)
        XCTAssertEqual(KafkaLogLevel(syslog: 42), .error, "an unknown level is not lost")
        XCTAssertTrue(KafkaLogLevel.warning < KafkaLogLevel.error)
        XCTAssertTrue(KafkaLogLevel.critical > KafkaLogLevel.error)
    }
}
