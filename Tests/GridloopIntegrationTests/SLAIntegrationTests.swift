import Foundation
import GridloopKafka
import GridloopPostgres
import XCTest

/// The SLA clocks through the running daemon, real PostgreSQL and the development broker, with
/// a policy in seconds: what downstream services read on the outbound topics.
final class SLAIntegrationTests: XCTestCase {
    func testAnUnsignedOrderClimbsTheLadderAndIsUrgedWhileAHandledOneIsLeftAlone() throws {
        let (binDir, broker, database, ladderEnv) = try setUpLadder("sla_ladder")
        var env = ladderEnv
        env["GRIDLOOP_DEPLOYMENT"] = "test-district"
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "sla")
        defer { daemon.terminate() }

        let now = Date()
        try DaemonHarness.produce(
            [
                try message("DISPATCH", "HFLATE1", at: now),
                try message("DISPATCH", "HFONTIME", at: now),
                try message("SIGN", "HFONTIME", at: now.addingTimeInterval(1), order: ["unitCode": "E1"]),
                try message(
                    "REPLY", "HFONTIME", at: now.addingTimeInterval(2),
                    order: ["unitCode": "E1", "result": "RESOLVED", "content": "已疏通"]),
            ], topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)

        // 3 s per level: DISTRICT after 9 s, overdue there at 12 s, urged at 14 s and 16 s.
        let db = try PostgresConnection(database)
        try eventually("the late order is urged twice", attempts: 600) {
            XCTAssertTrue(daemon.isRunning, daemon.log)
            return try db.query(
                "SELECT count(*) FROM sla_decisions WHERE case_id = '12345:HFLATE1' AND type = 'gridloop.case.supervision.urge'"
            )
            .int(0, 0) == 2
        }
        try eventually("the outbox is published") {
            try db.query("SELECT count(*) FROM outbox").int(0, 0) == 0
        }

        // What subscribers see: 3 escalations up the ladder, 4 warnings, 4 overdues, 2 urges;
        // every event once, with its own id, none about the order handled in time.
        let escalations = try read(topic: "gridloop.escalations", brokers: broker.bootstrap, expected: 3)
        let supervision = try read(topic: "gridloop.supervision", brokers: broker.bootstrap, expected: 10)
        let all = escalations + supervision
        XCTAssertEqual(Set(all.map { $0["id"] as? String ?? "" }).count, all.count, "no id twice")
        XCTAssertTrue(all.allSatisfy { $0["subject"] as? String == "12345:HFLATE1" }, "nothing about the order handled in time")
        let ladder = escalations.map { data($0)["fromLevel"] as? String ?? "" }.sorted()
        XCTAssertEqual(ladder, ["COMMUNITY", "ESTATE", "STREET"])
        XCTAssertEqual(Set(escalations.map { data($0)["reason"] as? String }), ["SIGN_OVERDUE"])
        XCTAssertEqual(escalations.map { data($0)["escalationCount"] as? Int ?? 0 }.sorted(), [1, 2, 3])
        let types = supervision.map { $0["type"] as? String ?? "" }
        XCTAssertEqual(types.filter { $0.hasSuffix(".warning") }.count, 4)
        XCTAssertEqual(types.filter { $0.hasSuffix(".overdue") }.count, 4)
        XCTAssertEqual(types.filter { $0.hasSuffix(".urge") }.count, 2)
        XCTAssertTrue(
            all.allSatisfy { $0["source"] as? String == "/gridloop/test-district" && $0["specversion"] as? String == "1.0" })
        for e in all {
            let text = String(decoding: try JSONSerialization.data(withJSONObject: e), as: UTF8.self)
            for secret in ["王女士", "13800001111", "下水道堵塞，污水外溢", "已疏通"] {
                XCTAssertFalse(text.contains(secret), "personal data in an emitted event: \(text)")
            }
        }
        let level = try db.query("SELECT level FROM cases WHERE case_id = '12345:HFLATE1'").string(0, 0)
        XCTAssertEqual(level, "DISTRICT")
        XCTAssertEqual(try db.query("SELECT level FROM cases WHERE case_id = '12345:HFONTIME'").string(0, 0), "ESTATE")
        XCTAssertEqual(daemon.terminate(), 0)
    }

    /// Yesterday's feed, consumed by a daemon started only now: the decisions follow the feed's
    /// own times, not the moment it is read. A sign after its 3 s limit escalates; one before
    /// it does not, however late the daemon reads either.
    func testABacklogReplayEscalatesExactlyTheOrdersThatMissedTheirLimits() throws {
        let (binDir, broker, database, env) = try setUpLadder("sla_backlog")

        let t = Date().addingTimeInterval(-86_400)
        var feed: [(key: [UInt8]?, value: [UInt8])] = []
        // (order, seconds to sign): late ones first in the feed, so that a naive reader that
        // fired on arrival time, or before applying the batch, would get them wrong.
        let orders: [(String, Double)] = [("HFLATE", 4), ("HFINTIME", 2.5), ("HFQUICK", 0.5), ("HFVERYLATE", 7)]
        for (no, _) in orders { feed.append(try message("DISPATCH", no, at: t)) }
        for (no, sign) in orders.sorted(by: { $0.1 < $1.1 }) {
            feed.append(try message("SIGN", no, at: t.addingTimeInterval(sign), order: ["unitCode": "E1"]))
            feed.append(
                try message(
                    "REPLY", no, at: t.addingTimeInterval(sign + 1),
                    order: ["unitCode": "E1", "result": "RESOLVED", "content": "已处理"]))
        }
        try DaemonHarness.produce(feed, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)

        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "sla-backlog")
        defer { daemon.terminate() }
        let db = try PostgresConnection(database)
        try DaemonHarness.waitUntilConsumed(db, total: feed.count, daemon: daemon)
        sleep(2)  // several firing rounds after catching up: nothing more may be decided
        let rows = try db.query(
            """
            SELECT case_id, string_agg(level || '>' || to_level, ' ' ORDER BY decided_at)
            FROM sla_decisions WHERE type = 'gridloop.case.escalated' GROUP BY 1 ORDER BY 1
            """)
        var escalated: [String: String] = [:]
        for i in 0..<rows.count { escalated[rows.string(i, 0)!] = rows.string(i, 1)! }
        // HFLATE: ESTATE's limit passed at 3 s, signed at 4 s at COMMUNITY (limit 6 s).
        // HFVERYLATE: passed at 3 s and 6 s, signed at 7 s at STREET (limit 9 s).
        XCTAssertEqual(
            escalated,
            [
                "12345:HFLATE": "ESTATE>COMMUNITY",
                "12345:HFVERYLATE": "ESTATE>COMMUNITY COMMUNITY>STREET",
            ])
        let levels = try db.query("SELECT case_id, level FROM cases ORDER BY 1")
        XCTAssertEqual(
            (0..<levels.count).map { "\(levels.string($0, 0)!) \(levels.string($0, 1)!)" },
            [
                "12345:HFINTIME ESTATE", "12345:HFLATE COMMUNITY", "12345:HFQUICK ESTATE", "12345:HFVERYLATE STREET",
            ])
        let warned = try db.query(
            """
            SELECT count(*) FROM sla_decisions WHERE case_id = '12345:HFINTIME' AND type = 'gridloop.case.supervision.warning'
            """
        ).int(0, 0)
        XCTAssertEqual(warned, 1, "signed at 2.5 s: past the warning share (1.5 s), inside the limit")
        XCTAssertEqual(daemon.terminate(), 0)
    }

    /// kill -9 while the clocks fire, restart: every decision is taken once in the database and
    /// reaches the topics once, with its id, none missing. (A kill between the broker's
    /// acknowledgement and the relay's commit leaves published rows in the outbox; the relay of
    /// the next start finds them on the topics and does not publish them again.)
    func testKillNineWhileFiringLosesNoEventAndRepeatsNoDecision() throws {
        let (binDir, broker, database, env) = try setUpLadder("sla_kill", sign: "5s")
        let orders = 200
        let now = Date()
        let feed = try (0..<orders).map { try message("DISPATCH", "HFK\($0)", at: now) }
        try DaemonHarness.produce(feed, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        let db = try PostgresConnection(database)
        func decided() throws -> Int { try db.query("SELECT count(*) FROM sla_decisions").int(0, 0)! }

        // Each order: warning and overdue at 4 levels, 3 escalations, 2 urges = 13 decisions,
        // the last 24 s after dispatch. Kill the daemon while they are being taken.
        let expected = orders * 13
        var kills = 0
        for _ in 0..<3 {
            let before = try decided()
            let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "sla-kill")
            try eventually("the restarted daemon decides", attempts: 600) { try decided() > before }
            usleep(UInt32.random(in: 0...1_500_000))
            daemon.kill9()
            kills += 1
            if try decided() >= expected { break }
        }
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "sla-kill")
        defer { daemon.terminate() }
        try eventually("all \(expected) decisions taken and published", attempts: 900) {
            try decided() >= expected && db.query("SELECT count(*) FROM outbox").int(0, 0) == 0
        }
        XCTAssertEqual(try decided(), expected, "every decision once after \(kills) kills")
        let stored = try db.query("SELECT id FROM sla_decisions")
        let ids = Set((0..<stored.count).map { stored.string($0, 0)! })
        let published =
            try read(topic: "gridloop.escalations", brokers: broker.bootstrap, atLeast: orders * 3)
            + read(topic: "gridloop.supervision", brokers: broker.bootstrap, atLeast: orders * 10)
        let publishedIds = Set(published.map { $0["id"] as? String ?? "" })
        XCTAssertEqual(publishedIds, ids, "every decision published with its id, none missing, none invented")
        XCTAssertEqual(published.count, publishedIds.count, "no event published twice")
        print(
            "kill -9 while firing: \(kills) kills, \(ids.count) decisions, \(published.count) messages published "
                + "(\(published.count - publishedIds.count) repeats of an id)")
        XCTAssertEqual(daemon.terminate(), 0)
    }

    /// Two daemons in one consumer group share the partitions: each fires only the clocks of
    /// the cases it holds, so every due clock fires, and no decision is taken twice.
    func testTwoDaemonsInOneGroupFireEveryClockOnce() throws {
        let (binDir, broker, database, env) = try setUpLadder("sla_two", sign: "5s")
        let a = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "sla-a")
        let b = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "sla-b")
        defer {
            a.terminate()
            b.terminate()
        }
        try eventually("both daemons hold partitions", attempts: 600) {
            a.log.contains("partitions assigned") && b.log.contains("partitions assigned")
        }
        sleep(2)  // let the group settle: the orders below start their clocks at once
        let orders = 200
        let feed = try (0..<orders).map { try message("DISPATCH", "HFT\($0)", at: Date()) }
        try DaemonHarness.produce(feed, topic: IntakeIntegrationTests.t12345, brokers: broker.bootstrap)
        let db = try PostgresConnection(database)
        let expected = orders * 13
        try eventually("all \(expected) decisions taken and published", attempts: 900) {
            try db.query("SELECT count(*) FROM sla_decisions").int(0, 0)! >= expected
                && db.query("SELECT count(*) FROM outbox").int(0, 0) == 0
        }
        XCTAssertEqual(try db.query("SELECT count(*) FROM sla_decisions").int(0, 0), expected)
        let published =
            try read(topic: "gridloop.escalations", brokers: broker.bootstrap, expected: orders * 3)
            + read(topic: "gridloop.supervision", brokers: broker.bootstrap, expected: orders * 10)
        XCTAssertEqual(Set(published.map { $0["id"] as? String ?? "" }).count, published.count, "no id twice")
        XCTAssertTrue(a.log.contains("decisions taken"), "the first daemon decided some")
        XCTAssertTrue(b.log.contains("decisions taken"), "the second daemon decided some")
        XCTAssertEqual(a.terminate(), 0)
        XCTAssertEqual(b.terminate(), 0)
    }
}
