import Foundation
import GridloopKafka
import GridloopPostgres
import XCTest

/// Runs `gridloopd` as a child process against a test database and broker.
enum DaemonHarness {
    static func environment(
        broker: TestBroker, database: String, group: String = "gridloop",
        hold: String = "2s"
    ) -> [String: String] {
        [
            "GRIDLOOP_KAFKA_BROKERS": broker.bootstrap, "GRIDLOOP_DATABASE_URL": database,
            "GRIDLOOP_CONSUMER_GROUP": group, "GRIDLOOP_HOLD_WAIT": hold, "GRIDLOOP_LOG_LEVEL": "debug",
            // Several daemons run at once: each listens on a port of its own (see `httpPort`).
            "GRIDLOOP_HTTP_LISTEN": "127.0.0.1:0",
            // A killed member leaves the group after the session timeout: keep it short in tests.
            "GRIDLOOP_KAFKA_PROPERTIES": "session.timeout.ms=6000,heartbeat.interval.ms=500",
        ]
    }

    static func migrate(_ binDir: String, _ env: [String: String]) throws {
        let m = try ChildProcess(binDir + "/gridloopd", ["migrate"], environment: env, label: "migrate")
        m.process.waitUntilExit()
        XCTAssertEqual(m.process.terminationStatus, 0, m.log)
    }

    static func produce(_ lines: [(key: [UInt8]?, value: [UInt8])], topic: String, brokers: String) throws {
        let producer = try KafkaProducer(configuration: ["bootstrap.servers": brokers])
        var i = 0
        while i < lines.count {
            let chunk = lines[i..<min(i + 5000, lines.count)].map {
                ProducerRecord(topic: topic, partition: nil, key: $0.key, value: $0.value, headers: [])
            }
            let results = try producer.send(chunk, timeout: .seconds(60))
            for r in results { if case .failure(let e) = r { XCTFail("produce failed: \(e)") } }
            i += chunk.count
        }
    }

    /// Waits until the daemon has committed every message of the feeds and holds nothing.
    static func waitUntilConsumed(_ db: PostgresConnection, total: Int, daemon: ChildProcess) throws {
        var last = ""
        try eventually("all \(total) messages committed (\(last))", attempts: 3000) {
            XCTAssertTrue(daemon.isRunning, daemon.log)
            guard daemon.isRunning else { return true }
            let r = try db.query(
                """
                SELECT (SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE next_offset >= 0),
                       (SELECT count(*) FROM held_events),
                       (SELECT count(*) FROM outbox)
                """)
            last = "committed \(r.int(0, 0)!), held \(r.int(0, 1)!), outbox unsent \(r.int(0, 2)!)"
            return r.int(0, 0)! >= total && r.int(0, 1)! == 0 && r.int(0, 2)! == 0
        }
    }

    /// The port of a daemon's HTTP listener, from its start-up log line (`http=127.0.0.1:PORT`).
    static func httpPort(_ daemon: ChildProcess) throws -> Int {
        var port: Int?
        try eventually("the daemon logs its HTTP address") {
            guard let r = daemon.log.range(of: #"http=127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return false }
            port = Int(daemon.log[r].split(separator: ":").last!)
            return true
        }
        return port!
    }
}
