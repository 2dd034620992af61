import Foundation
import GridloopCore
import GridloopKafka
import GridloopPostgres
import XCTest

/// What the SLA tests through a running daemon share (SLAIntegrationTests, UnitAttributionTests):
/// a policy in seconds, 12345 messages of one order, the set-up, and reading the outbound topics.
let ladderPolicy = """
    # Seconds, so that a case walks the whole ladder in a test.
    levels:
      ESTATE:    {sign: 3s, handle: 600s}
      COMMUNITY: {sign: 3s, handle: 600s}
      STREET:    {sign: 3s, handle: 600s}
      DISTRICT:  {sign: 3s, handle: 600s}
    warningShare: 0.5
    urge: {interval: 2s, cap: 2}
    onReturn: STOP_CLOCKS_UNTIL_REDISPATCH
    onUnsatisfiedCallback: ONE_LEVEL_UP
    platformLimitTightens: false
    """

extension XCTestCase {
    func message(_ type: String, _ orderNo: String, at time: Date, order extra: [String: Any] = [:]) throws
        -> (key: [UInt8]?, value: [UInt8])
    {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        var order: [String: Any] = ["orderNo": orderNo, "time": f.string(from: time)]
        if type == "DISPATCH" {
            order = [
                "orderNo": orderNo, "channel": "PHONE", "acceptTime": f.string(from: time), "appealType": "HELP",
                "category": ["code": "0305", "name": "物业管理/下水道堵塞"], "urgency": "NORMAL",
                "content": "下水道堵塞，污水外溢。", "citizen": ["name": "王女士", "phone": "13800001111", "anonymous": false],
                "location": [
                    "address": "包河区某小区1栋", "districtCode": "340111", "streetCode": "340111002",
                    "communityCode": "340111002003", "gridCode": "340111002003-11",
                ],
                "assignee": ["unitCode": "E1", "unitName": "物业服务中心", "level": "ESTATE"],
            ]
        }
        for (k, v) in extra { order[k] = v }
        let value: [String: Any] = [
            "msgId": UUID().uuidString, "msgType": type, "sendTime": f.string(from: time), "order": order,
        ]
        return (Array(orderNo.utf8), Array(try JSONSerialization.data(withJSONObject: value)))
    }

    /// A development broker with every topic, a migrated database, and the daemon's environment
    /// with the seconds policy (sign limit `sign`), or `policy`, as its policy file.
    func setUpLadder(_ name: String, sign: String = "3s", policy: String? = nil) throws
        -> (binDir: String, broker: TestBroker, database: String, env: [String: String])
    {
        let (_, binDir) = try TestEnvironment.require()
        let broker = try TestBroker(binDir: binDir, topics: TestBroker.gridloopTopics)
        let database = try TestEnvironment.createDatabase(name)
        let policyFile = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).yaml")
        try (policy ?? ladderPolicy.replacingOccurrences(of: "sign: 3s", with: "sign: \(sign)")).write(
            to: policyFile, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: policyFile) }
        var env = DaemonHarness.environment(broker: broker, database: database)
        env["GRIDLOOP_POLICY_FILE"] = policyFile.path
        try DaemonHarness.migrate(binDir, env)
        return (binDir, broker, database, env)
    }

    /// Generated feeds of both platforms (150 orders each, 5 % resends, `seeds` for 12345 and
    /// 12319), consumed whole by a daemon that is then stopped: a month of history to report on.
    /// Returns the database and the two feeds' messages.
    func consumeGeneratedFeeds(
        seeds: (Int, Int), label: String, binDir: String, broker: TestBroker, database: String, env: [String: String]
    ) throws -> (
        db: PostgresConnection, feed12345: [(key: [UInt8]?, value: [UInt8])], feed12319: [(key: [UInt8]?, value: [UInt8])]
    ) {
        let feed12345 = try TestEnvironment.generatedFeed([
            "--platform", "12345", "--orders", "150", "--seed", "\(seeds.0)", "--resend", "0.05",
        ])
        let feed12319 = try TestEnvironment.generatedFeed([
            "--platform", "12319", "--orders", "150", "--seed", "\(seeds.1)", "--resend", "0.05",
        ])
        try DaemonHarness.produce(feed12345, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        try DaemonHarness.produce(feed12319, topic: IntakeIntegrationTests.t12319, brokers: broker.bootstrap)
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: label)
        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: feed12345.count + feed12319.count, daemon: daemon)
        XCTAssertEqual(daemon.terminate(), 0)
        return (db, feed12345, feed12319)
    }

    func data(_ event: [String: Any]) -> [String: Any] { event["data"] as? [String: Any] ?? [:] }

    /// Every message on `topic` (waits for `expected`, then a little more to see any extra).
    func read(topic: String, brokers: String, expected: Int) throws -> [[String: Any]] {
        let out = try read(topic: topic, brokers: brokers, atLeast: expected)
        XCTAssertEqual(out.count, expected, "messages on \(topic)")
        return out
    }

    /// Every message on `topic`, once at least `atLeast` have come and a second passed without more.
    func read(topic: String, brokers: String, atLeast expected: Int) throws -> [[String: Any]] {
        final class Handler: KafkaRebalanceHandler, @unchecked Sendable {
            func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] { [:] }
            func revoked(_ partitions: [TopicPartition]) {}
        }
        let consumer = try KafkaConsumer(
            configuration: ["bootstrap.servers": brokers, "group.id": "sla-test-\(UUID().uuidString)"],
            topics: [topic], rebalanceHandler: Handler(), errorHandler: { _ in })
        defer { consumer.close() }
        var out: [[String: Any]] = []
        var extraPolls = 10
        try eventually("\(expected) messages on \(topic) (have \(out.count))", attempts: 600) {
            let messages = try consumer.poll(maxMessages: 1000, timeout: .milliseconds(100))
            EventDump.record(messages)
            for m in messages {
                XCTAssertEqual(
                    m.headers.first { $0.name == "content-type" }?.value.map { String(decoding: $0, as: UTF8.self) },
                    "application/cloudevents+json; charset=UTF-8")
                if let e = try JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any] { out.append(e) }
            }
            if out.count >= expected { extraPolls -= 1 }
            return extraPolls <= 0
        }
        return out
    }
}
