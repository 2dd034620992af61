import Foundation
import GridloopKafka
import GridloopPostgres
import XCTest

/// kill -9 the daemon at random moments while a feed of 20,000+ messages flows; after the last
/// restart the database must equal, row for row, that of an uninterrupted run.
final class CrashRecoveryTests: XCTestCase {
    func testKillNineAtRandomMomentsLosesAndDuplicatesNothing() throws {
        let (_, binDir) = try TestEnvironment.require()
        let t12345 = IntakeIntegrationTests.t12345
        let t12319 = IntakeIntegrationTests.t12319
        let broker = try TestBroker(
            binDir: binDir, partitions: 6,
            topics: [
                t12345, t12319, IntakeIntegrationTests.dlq, "gridloop.escalations", "gridloop.supervision", "gridloop.outcomes",
                "gridloop.reports",
            ])
        let feed12345 = try TestEnvironment.generatedFeed(
            ["--platform", "12345", "--orders", "2500", "--seed", "7", "--resend", "0.03", "--malformed", "0.01"])
        let feed12319 = try TestEnvironment.generatedFeed(
            ["--platform", "12319", "--orders", "2500", "--seed", "8", "--resend", "0.03", "--malformed", "0.01"])
        let total = feed12345.count + feed12319.count
        // The hold (45 s) is far longer than the furthest out-of-order delivery in this feed (a
        // 12319 event_seq arriving some 2,000 messages, a few seconds of the paced producer,
        // late), so both runs resolve every gap the same way: late events fill their gap, truly
        // missing ones are accepted at the end.
        XCTAssertGreaterThanOrEqual(total, 20_000, "the feed must be at least 20,000 messages")

        let crashedDB = try TestEnvironment.createDatabase("crash_killed")
        let cleanDB = try TestEnvironment.createDatabase("crash_clean")
        // The intake alone: the SLA clocks fire on the wall clock once the intake has caught
        // up, so two runs at different times may rightly decide differently.
        var crashedEnv = DaemonHarness.environment(broker: broker, database: crashedDB, group: "crashed", hold: "45s")
        var cleanEnv = DaemonHarness.environment(broker: broker, database: cleanDB, group: "clean", hold: "45s")
        crashedEnv["GRIDLOOP_SLA_ENABLED"] = "false"
        cleanEnv["GRIDLOOP_SLA_ENABLED"] = "false"
        try DaemonHarness.migrate(binDir, crashedEnv)
        try DaemonHarness.migrate(binDir, cleanEnv)

        // The feed flows while the daemon is killed and restarted: a producer thread publishes
        // it in small slices, paced, so that there is always more to apply. One producer for the
        // whole feed keeps the pace steady: a late event arrives within a few seconds of the one
        // it fills in for, far inside the hold, however slow the machine.
        let bootstrap = broker.bootstrap
        let producing = Thread {
            guard let producer = try? KafkaProducer(configuration: ["bootstrap.servers": bootstrap]) else { return }
            var a = feed12345[...]
            var b = feed12319[...]
            while !a.isEmpty || !b.isEmpty {
                let slice =
                    a.prefix(150).map {
                        ProducerRecord(topic: t12345, partition: nil, key: $0.key, value: $0.value, headers: [])
                    }
                    + b.prefix(150).map {
                        ProducerRecord(topic: t12319, partition: nil, key: $0.key, value: $0.value, headers: [])
                    }
                _ = try? producer.send(slice, timeout: .seconds(60))
                a = a.dropFirst(150)
                b = b.dropFirst(150)
                usleep(400_000)
            }
        }
        producing.start()

        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var killsMidFeed = 0
        let crashedConnection = try PostgresConnection(crashedDB)
        func committed() throws -> Int {
            try crashedConnection.query(
                "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE next_offset >= 0"
            ).int(0, 0)!
        }
        for _ in 0..<12 {
            let before = try committed()
            let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: crashedEnv, label: "crashed")
            // Kill it at a random moment once it is applying (after the group gave it partitions).
            try eventually("the restarted daemon makes progress", attempts: 600) {
                try committed() > before || before >= total
            }
            usleep(UInt32.random(in: 0...400_000, using: &generator))
            XCTAssertTrue(daemon.isRunning, daemon.log)
            daemon.kill9()
            kills += 1
            let now = try committed()
            if now > 0, now < total { killsMidFeed += 1 }
        }
        XCTAssertGreaterThanOrEqual(kills, 10)
        XCTAssertGreaterThanOrEqual(killsMidFeed, 3, "the kills must land while the feed is being applied")

        let finalCrashed = try ChildProcess(binDir + "/gridloopd", ["run"], environment: crashedEnv, label: "crashed")
        let clean = try ChildProcess(binDir + "/gridloopd", ["run"], environment: cleanEnv, label: "clean")
        let cleanConnection = try PostgresConnection(cleanDB)
        try DaemonHarness.waitUntilConsumed(crashedConnection, total: total, daemon: finalCrashed)
        try DaemonHarness.waitUntilConsumed(cleanConnection, total: total, daemon: clean)
        XCTAssertEqual(finalCrashed.terminate(), 0)
        XCTAssertEqual(clean.terminate(), 0)

        let a = try CanonicalDump.of(crashedConnection)
        let b = try CanonicalDump.of(cleanConnection)
        XCTAssertGreaterThan(b.count, total / 2, "the uninterrupted run applied the feed")
        XCTAssertEqual(a.count, b.count, "same number of rows after \(kills) kills")
        if a != b {
            let diff = zip(a, b).first { $0 != $1 }
            var detail = ""
            if let row = diff?.0, let id = row.dropFirst().split(separator: ",").first.map(String.init) {
                for (name, db) in [("killed", crashedConnection), ("clean", cleanConnection)] {
                    let r = try db.query(
                        """
                        SELECT event_no || ' ' || type || ' seq ' || coalesce(sequence, 0) || ' gap ' || gap_before || ' @' || partition || ':' || "offset" FROM case_events WHERE case_id = $1 ORDER BY event_no
                        """, [id])
                    detail += "\n\(name) \(id): " + (0..<r.count).map { r.string($0, 0)! }.joined(separator: "; ")
                    let d = try db.query("SELECT reason FROM dead_letters WHERE case_id = $1", [id])
                    detail += " | dead letters: " + (0..<d.count).map { d.string($0, 0)! }.joined(separator: "; ")
                }
            }
            XCTFail(
                "state after kill -9 differs from the uninterrupted run; first difference: \(String(describing: diff))\(detail)")
        }
    }
}

/// Every durable row, without wall-clock columns, in a fixed order: two runs over the same
/// feed must produce the same dump.
enum CanonicalDump {
    static func of(_ db: PostgresConnection) throws -> [String] {
        var out: [String] = []
        let queries = [
            "SELECT c::text FROM (SELECT * FROM cases ORDER BY case_id) c",
            "SELECT case_id || ' ' || event_no || ' ' || event_key || ' ' || type || ' ' || event_time || ' ' || coalesce(sequence, -1) || ' ' || gap_before || ' ' || coalesce(level, '') || ' ' || coalesce(unit_code, '') || ' ' || topic || ':' || partition || ':' || \"offset\" FROM case_events ORDER BY case_id, event_no",
            "SELECT topic || ':' || partition || ':' || \"offset\" || ' ' || reason || ' ' || md5(msg_value) FROM dead_letters ORDER BY topic, partition, \"offset\"",
            "SELECT topic || ':' || partition || ':' || \"offset\" || ' ' || reason FROM skipped_messages ORDER BY 1",
            "SELECT 'held ' || event_key FROM held_events ORDER BY 1",
            "SELECT 'unpublished ' || id || ' ' || topic || ' ' || md5(payload) FROM outbox ORDER BY id",
            "SELECT id || ' ' || type || ' ' || level || ' ' || coalesce(to_level, '') || ' ' || decided_at || ' ' || coalesce(topic, '') FROM sla_decisions ORDER BY id",
            "SELECT case_id || ' ' || next_due || ' ' || clock::text FROM case_clocks ORDER BY case_id",
        ]
        for q in queries {
            let r = try db.query(
                q.replacingOccurrences(
                    of: "SELECT c::text FROM (SELECT * FROM cases ORDER BY case_id) c",
                    with: "SELECT (c)::text FROM (SELECT \(caseColumns) FROM cases ORDER BY case_id) c"))
            for i in 0..<r.count { out.append(r.string(i, 0) ?? "NULL") }
        }
        return out
    }

    static let caseColumns = """
        case_id, source, order_no, status, level, unit_code, unit_name, urgency, category_code, category_name,
        channel, appeal_type, accept_time, district_code, street_code, community_code, grid_code,
        platform_sign_hours, platform_handle_days, platform_deadline, repeat_of, assigned_at, signed_at,
        replied_at, closed_at, suspended_since, extension_days, replied_level, last_result, last_satisfaction,
        last_sequence, event_count, gap_count, last_event_time
        """
}
