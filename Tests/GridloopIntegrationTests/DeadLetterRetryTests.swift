import Foundation
import GridloopKafka
import GridloopPostgres
import XCTest

/// `gridloopd dlq retry` through the running daemon: what a person sees in `dlq list` and in the
/// cases after re-driving dead letters.
extension SLAIntegrationTests {
    /// A SIGN dead-lettered for want of its DISPATCH is applied once re-driven after the DISPATCH
    /// came; a damaged message is dead-lettered again as a new row naming the old one, with its
    /// original headers; a second retry of the same dead letter is refused and publishes nothing.
    func testDeadLettersAreReDrivenOnce() throws {
        let (binDir, broker, database, env) = try setUpLadder("people_dlq", sign: "3600s")
        let topic = IntakeIntegrationTests.t12345
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "dlq")
        defer { daemon.terminate() }
        let headers = [
            KafkaHeader(name: "traceparent", value: Array("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".utf8)),
            KafkaHeader(name: "x-empty", value: nil), KafkaHeader(name: "x-bytes", value: [0x00, 0xFF, 0x7F]),
        ]
        _ = try produceCounting(
            [
                try message("SIGN", "HFORPHAN", at: Date(), order: ["unitCode": "E1"]),
                (Array("HFBROKEN".utf8), Array("{\"msgId\": \"x\", ".utf8)),
            ],
            topic: topic, brokers: broker.bootstrap, headers: headers)
        let db = try PostgresConnection(database)
        try eventually("both dead-lettered (the orphan after the 2 s hold)") {
            try db.query("SELECT count(*) FROM dead_letters").int(0, 0) == 2
        }
        let orphan = try XCTUnwrap(db.query("SELECT id FROM dead_letters WHERE reason LIKE '%never dispatched%'").int64(0, 0))
        let broken = try XCTUnwrap(db.query("SELECT id FROM dead_letters WHERE id <> $1", [String(orphan)]).int64(0, 0))
        try DaemonHarness.produce([try message("DISPATCH", "HFORPHAN", at: Date())], topic: topic, brokers: broker.bootstrap)
        try eventually("the order exists, not signed") {
            try db.query("SELECT count(*) FROM cases WHERE case_id = '12345:HFORPHAN' AND status = 'DISPATCHED'").int(0, 0) == 1
        }

        let r = try gridloopd(binDir, ["dlq", "retry", String(orphan), String(broken)], env)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(
            r.out.contains("dead letter \(orphan) published again to \(topic)[") && r.out.contains("3 original header(s)"), r.out)
        try eventually("the SIGN is applied now") {
            try db.query("SELECT count(*) FROM cases WHERE case_id = '12345:HFORPHAN' AND status = 'SIGNED'").int(0, 0) == 1
        }
        try eventually("the damaged one is a dead letter again, with a new id") {
            try db.query("SELECT count(*) FROM dead_letters").int(0, 0) == 3
        }
        var list = try XCTUnwrap(try gridloopdJSON(binDir, ["dlq", "list"], env) as? [[String: Any]])
        let byId = Dictionary(uniqueKeysWithValues: list.map { ($0["id"] as! Int, $0) })
        let again = try XCTUnwrap(
            list.first { $0["retryOf"] as? Int == Int(broken) }, "the new dead letter names the one it re-drove")
        let old = try XCTUnwrap(byId[Int(broken)])
        XCTAssertTrue(old["retriedAt"] is String)
        XCTAssertEqual(
            old["retriedOffset"] as? Int, again["offset"] as? Int, "re-driven to the offset the new dead letter came from")
        XCTAssertEqual(again["partition"] as? Int, old["partition"] as? Int, "to the partition it came from")
        XCTAssertTrue(byId[Int(orphan)]?["retriedAt"] is String)
        XCTAssertTrue(again["retriedAt"] is NSNull)
        // What was published again: the original headers (in order, a header without a value
        // kept as such), then the retry header.
        let stored = try db.query(
            """
            SELECT h.name, encode(h.value, 'hex') FROM dead_letters d,
                   unnest(d.msg_header_names, d.msg_header_values) WITH ORDINALITY h(name, value, n)
            WHERE d.id = $1 ORDER BY h.n
            """, [String(again["id"] as! Int)])
        XCTAssertEqual(
            (0..<stored.count).map { stored.string($0, 0)! }, ["traceparent", "x-empty", "x-bytes", "gridloop-retry-of"])
        XCTAssertNil(stored.string(1, 1))
        XCTAssertEqual(stored.string(2, 1), "00ff7f")
        XCTAssertEqual(stored.string(3, 1), Data(String(broken).utf8).map { String(format: "%02x", $0) }.joined())
        let table = try gridloopd(binDir, ["dlq", "list"], env).out
        XCTAssertTrue(table.contains("failed again: re-drive of \(broken)") && table.contains("retried "), table)

        // Refused the second time, nothing published: the partitions' high watermarks do not move.
        func highWatermarks() throws -> [Int] {
            let s = try XCTUnwrap(try gridloopdJSON(binDir, ["status"], env) as? [String: Any])
            return (s["partitions"] as? [[String: Any]] ?? []).map { $0["highWatermark"] as? Int ?? -1 }
        }
        let before = try highWatermarks()
        let refused = try gridloopd(binDir, ["dlq", "retry", String(orphan)], env)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(
            refused.err.contains("dead letter \(orphan) was retried already") && !refused.err.contains("Usage"), refused.err)
        let unknown = try gridloopd(binDir, ["dlq", "retry", "999999"], env)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.err.contains("no dead letter 999999"), unknown.err)
        XCTAssertEqual(try highWatermarks(), before)

        // --all re-drives what was not retried yet: the second-generation dead letter only.
        let all = try XCTUnwrap(try gridloopdJSON(binDir, ["dlq", "retry", "--all"], env) as? [String: Any])
        XCTAssertEqual((all["published"] as? [[String: Any]])?.map { $0["id"] as? Int }, [again["id"] as? Int])
        try eventually("dead-lettered a third time") { try db.query("SELECT count(*) FROM dead_letters").int(0, 0) == 4 }
        list = try XCTUnwrap(try gridloopdJSON(binDir, ["dlq", "list"], env) as? [[String: Any]])
        XCTAssertEqual(list.first?["retryOf"] as? Int, again["id"] as? Int, "newest first: the third names the second")
        XCTAssertEqual(try db.query("SELECT count(*) FROM cases").int(0, 0), 1, "a damaged message never becomes a case")
        XCTAssertEqual(daemon.terminate(), 0)
    }
}
