import Foundation
import GridloopKafka
import GridloopPostgres
import XCTest

/// The commands the operations team uses: `status`, `case show`, `dlq retry` (and `report 721`
/// in Report721Tests.swift), run as a person runs them: the `gridloopd` binary against the real
/// database and the development broker. (An extension of the SLA tests, whose set-up and
/// message builder they share.)
extension SLAIntegrationTests {
    func jsonObject(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    /// Publishes `lines` to `topic`; returns the partition each landed in, in order.
    func produceCounting(
        _ lines: [(key: [UInt8]?, value: [UInt8])], topic: String, brokers: String,
        headers: [KafkaHeader] = []
    ) throws -> [Int32] {
        let producer = try KafkaProducer(configuration: ["bootstrap.servers": brokers])
        let results = try producer.send(
            lines.map { ProducerRecord(topic: topic, key: $0.key, value: $0.value, headers: headers) },
            timeout: .seconds(60))
        return try results.map { try $0.get().partition }
    }

    /// `status --json`: the lag is exactly what was produced and not consumed, per partition, before
    /// any daemon ran and between runs; open cases by level, clocks due while no daemon runs, the
    /// outbox backlog and today's dead letters are what the test made them; unreachable brokers
    /// make the lag unknown, not the command fail.
    func testStatusShowsTheLagTheBacklogAndTheOpenCases() throws {
        let (binDir, broker, database, env) = try setUpLadder("people_status", sign: "30s")
        let topic = IntakeIntegrationTests.t12345
        let now = Date()
        func dispatch(_ no: String, _ level: String) throws -> (key: [UInt8]?, value: [UInt8]) {
            try message(
                "DISPATCH", no, at: now, order: ["assignee": ["unitCode": "U-\(no)", "unitName": "承办单位", "level": level]])
        }
        // Never consumed by anyone: all of it is lag, although no offset is committed yet.
        let first = try produceCounting(
            [
                try dispatch("HFST1", "ESTATE"), try dispatch("HFST2", "ESTATE"),
                try dispatch("HFST3", "COMMUNITY"), try dispatch("HFST4", "STREET"),
            ],
            topic: topic, brokers: broker.bootstrap)
        var status = try XCTUnwrap(try gridloopdJSON(binDir, ["status"], env) as? [String: Any])
        XCTAssertEqual(status["totalLag"] as? Int, 4)
        var partitions = try XCTUnwrap(status["partitions"] as? [[String: Any]])
        XCTAssertEqual(partitions.filter { $0["topic"] as? String == topic }.count, 4, "every partition of the intake topic")
        XCTAssertTrue(partitions.allSatisfy { $0["committed"] is NSNull }, "nothing committed yet")

        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "status")
        let db = try PostgresConnection(database)
        // One closed case (not open any more) and one damaged message (a dead letter today).
        try DaemonHarness.produce(
            [
                try dispatch("HFSTDONE", "ESTATE"),
                try message("SIGN", "HFSTDONE", at: now, order: ["unitCode": "U-HFSTDONE"]),
                try message(
                    "REPLY", "HFSTDONE", at: now, order: ["unitCode": "U-HFSTDONE", "result": "RESOLVED", "content": "已处理"]),
                try message("VISIT", "HFSTDONE", at: now, order: ["satisfaction": "SATISFIED"]),
                (Array("HFSTBROKEN".utf8), Array("{\"msgId\": ".utf8)),
            ], topic: topic, brokers: broker.bootstrap)
        try DaemonHarness.waitUntilConsumed(db, total: first.count + 5, daemon: daemon)
        XCTAssertEqual(daemon.terminate(), 0)

        // While no daemon runs: seven more (the lag), and the 30 s sign clocks fall due.
        var counts: [Int32: Int] = [:]
        for p in try produceCounting(
            try (5..<12).map { try dispatch("HFST\($0)", "DISTRICT") }, topic: topic, brokers: broker.bootstrap)
        {
            counts[p, default: 0] += 1
        }
        // A relay that could not publish for two minutes: three events waiting.
        try db.execute(
            """
            INSERT INTO outbox (id, topic, payload, msg_header_names, msg_header_values, created_at)
            SELECT 'stuck-' || n, 'gridloop.supervision', '\\x7b7d', '{}', '{}', now() - interval '2 minutes'
            FROM generate_series(1, 3) n
            """)
        // A dead letter of yesterday (Asia/Shanghai): not today's.
        try db.execute(
            """
            INSERT INTO dead_letters (topic, partition, "offset", reason, msg_value, created_at)
            VALUES ('\(topic)', 0, 999999, 'test: yesterday', '\\x00',
                    date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai' - interval '1 second')
            """)
        try eventually("the open cases' clocks fall due with no daemon to fire them", attempts: 900) {
            status = try XCTUnwrap(try gridloopdJSON(binDir, ["status"], env) as? [String: Any])
            return status["dueTimers"] as? Int == 4
        }
        XCTAssertEqual(status["totalLag"] as? Int, 7, "the messages produced while no daemon ran")
        partitions = try XCTUnwrap(status["partitions"] as? [[String: Any]])
        for p in partitions where p["topic"] as? String == topic {
            XCTAssertEqual(p["lag"] as? Int, counts[Int32(p["partition"] as! Int)] ?? 0, "\(p)")
            XCTAssertEqual((p["highWatermark"] as? Int).map { $0 - (p["committed"] as? Int ?? 0) }, p["lag"] as? Int, "\(p)")
        }
        XCTAssertTrue(status["brokerProblem"] is NSNull)
        XCTAssertEqual(status["openCasesByLevel"] as? [String: Int], ["ESTATE": 2, "COMMUNITY": 1, "STREET": 1, "DISTRICT": 0])
        XCTAssertEqual(status["outboxBacklog"] as? Int, 3)
        XCTAssertGreaterThanOrEqual(status["oldestUnsentAgeSeconds"] as? Double ?? 0, 120)
        XCTAssertEqual(status["deadLettersToday"] as? Int, 1)
        XCTAssertEqual(status["deadLettersNotRetried"] as? Int, 2)
        XCTAssertTrue((status["oldestDueCase"] as? String)?.hasPrefix("12345:HFST") == true, "\(status)")
        XCTAssertNotNil(status["oldestDueUnit"] as? String, "the unit that must act: \(status)")
        XCTAssertTrue((status["oldestDueTimer"] as? String)?.hasSuffix("+08:00") == true, "\(status)")
        let table = try gridloopd(binDir, ["status"], env)
        XCTAssertEqual(table.status, 0, table.err)
        for line in ["ESTATE 2   COMMUNITY 1   STREET 1   DISTRICT 0", "outbox backlog      3 unsent", "dead letters today  1"] {
            XCTAssertTrue(table.out.contains(line), "'\(line)' in\n\(table.out)")
        }

        // The brokers cannot be reached: the database's figures, the lag unknown and why.
        var away = env
        away["GRIDLOOP_KAFKA_BROKERS"] = "127.0.0.1:9"
        let blind = try XCTUnwrap(try gridloopdJSON(binDir, ["status"], away) as? [String: Any])
        XCTAssertTrue(blind["totalLag"] is NSNull)
        XCTAssertTrue((blind["brokerProblem"] as? String)?.contains("127.0.0.1:9") == true, "\(blind)")
        XCTAssertTrue((blind["partitions"] as? [[String: Any]])?.allSatisfy { $0["lag"] is NSNull } == true)
        XCTAssertEqual(blind["outboxBacklog"] as? Int, 3)
        let blindTable = try gridloopd(binDir, ["status"], away)
        XCTAssertEqual(blindTable.status, 0, blindTable.err)
        XCTAssertTrue(blindTable.out.contains("unknown") && blindTable.out.contains("did not answer"), blindTable.out)
        XCTAssertEqual(KafkaLogDaemonTests.rawKafkaLines(blindTable.err), [], "librdkafka's lines as key=value lines")

        // A daemon catches up: no lag.
        try db.execute("DELETE FROM outbox WHERE id LIKE 'stuck-%'")
        let again = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "status-2")
        try DaemonHarness.waitUntilConsumed(db, total: first.count + 5 + 7, daemon: again)
        XCTAssertEqual(again.terminate(), 0)
        let after = try XCTUnwrap(try gridloopdJSON(binDir, ["status"], env) as? [String: Any])
        XCTAssertEqual(after["totalLag"] as? Int, 0)
    }

    /// `case show --json`: an open case's clocks with their deadlines (+08:00) and the share of
    /// each limit used; a case that went overdue and climbed a level, with the events emitted for
    /// it and their publication.
    func testCaseShowHasTheClocksAndTheEmittedEvents() throws {
        // Ladder policy with a one-hour sign limit: handle 600 s at every level.
        let (binDir, broker, database, env) = try setUpLadder("people_case", sign: "3600s")
        let whole = floor(Date().timeIntervalSince1970)
        let fresh = Date(timeIntervalSince1970: whole - 60)
        let late = Date(timeIntervalSince1970: whole - 700)
        // Produced before the daemon starts, so that it reads them as a backlog in event time.
        try DaemonHarness.produce(
            [try message("DISPATCH", "HFLATE", at: late), try message("DISPATCH", "HFFRESH", at: fresh)],
            topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "case-show")
        let db = try PostgresConnection(database)
        // HFLATE: handle limit (600 s) passed at ESTATE → overdue, escalated to COMMUNITY.
        try eventually("HFLATE escalated and its events published") {
            try db.query("SELECT count(*) FROM sla_decisions WHERE case_id = '12345:HFLATE' AND type = 'gridloop.case.escalated'")
                .int(0, 0) == 1
                && db.query("SELECT count(*) FROM outbox").int(0, 0) == 0
        }
        XCTAssertEqual(daemon.terminate(), 0)
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        func at(_ d: Date) -> String { f.string(from: d) }

        let open = try XCTUnwrap(try gridloopdJSON(binDir, ["case", "show", "12345:HFFRESH"], env) as? [String: Any])
        for key in ["caseId", "source", "orderNo", "status", "level", "events"] { XCTAssertNotNil(open[key], "kept: \(key)") }
        XCTAssertEqual(open["level"] as? String, "ESTATE")
        let asOf = try XCTUnwrap(f.date(from: try XCTUnwrap(open["asOf"] as? String)))
        let clocks = try XCTUnwrap(open["clocks"] as? [[String: Any]])
        XCTAssertEqual(clocks.map { $0["kind"] as? String }, ["SIGN", "HANDLE"])
        for (clock, limit) in zip(clocks, [3600.0, 600.0]) {
            XCTAssertEqual(clock["level"] as? String, "ESTATE")
            XCTAssertEqual(clock["deadline"] as? String, at(fresh.addingTimeInterval(limit)), "\(clock)")
            XCTAssertEqual(clock["warningAt"] as? String, at(fresh.addingTimeInterval(limit / 2)), "\(clock)")
            XCTAssertEqual(
                clock["usedShare"] as? Double ?? -1, asOf.timeIntervalSince(fresh) / limit, accuracy: 0.002, "\(clock)")
        }
        XCTAssertEqual((open["emitted"] as? [Any])?.count, 0)

        let climbed = try XCTUnwrap(try gridloopdJSON(binDir, ["case", "show", "12345:HFLATE"], env) as? [String: Any])
        XCTAssertEqual(climbed["level"] as? String, "COMMUNITY")
        let assigned = late.addingTimeInterval(600)  // the escalation: at the ESTATE handle deadline
        let sign = try XCTUnwrap((climbed["clocks"] as? [[String: Any]])?.first { $0["kind"] as? String == "SIGN" })
        XCTAssertEqual(sign["level"] as? String, "COMMUNITY")
        XCTAssertEqual(sign["limit"] as? String, "3600s")
        XCTAssertEqual(sign["deadline"] as? String, at(assigned.addingTimeInterval(3600)))
        let emitted = try XCTUnwrap(climbed["emitted"] as? [[String: Any]])
        XCTAssertEqual(
            emitted.map { $0["type"] as? String ?? "" },
            [
                "gridloop.case.supervision.warning", "gridloop.case.supervision.overdue",
                "gridloop.case.escalated",
            ])
        XCTAssertEqual(emitted.map { $0["time"] as? String }, [at(late.addingTimeInterval(300)), at(assigned), at(assigned)])
        XCTAssertEqual(emitted.last?["level"] as? String, "ESTATE")
        XCTAssertEqual(emitted.last?["toLevel"] as? String, "COMMUNITY")
        XCTAssertEqual(emitted.last?["id"] as? String, "12345:HFLATE/a1/HANDLE/escalated")
        XCTAssertTrue(emitted.allSatisfy { $0["published"] as? Bool == true }, "all published: \(emitted)")

        let text = try gridloopd(binDir, ["case", "show", "12345:HFLATE"], env)
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertTrue(text.out.contains("clocks at COMMUNITY") && text.out.contains("escalated → COMMUNITY"), text.out)
        for secret in ["王女士", "13800001111", "下水道堵塞，污水外溢", "包河区某小区1栋"] {
            XCTAssertFalse(text.out.contains(secret), "personal data in case show")
        }
        let unknown = try gridloopd(binDir, ["case", "show", "12345:NOSUCH"], env)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.err.contains("no case 12345:NOSUCH"), unknown.err)
    }
}
