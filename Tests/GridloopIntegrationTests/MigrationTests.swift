import Foundation
import GridloopPostgres
import GridloopStore
import GridloopTestSupport
import XCTest

/// `gridloopd migrate` on a real PostgreSQL: several at once on an empty database all succeed and
/// leave the whole schema; an applied migration whose SQL changed is refused by name; a database
/// migrated before checksums were recorded is given them.
final class MigrationTests: XCTestCase {
    /// Runs `gridloopd ARGS` against `database` and waits for it.
    func gridloopd(_ args: [String], database: String) throws -> ChildProcess {
        let (_, binDir) = try TestEnvironment.require()
        // No broker: `migrate` and the refusals tested here never reach one.
        return try ChildProcess(
            binDir + "/gridloopd", args,
            environment: ["GRIDLOOP_DATABASE_URL": database, "GRIDLOOP_KAFKA_BROKERS": "127.0.0.1:1"],
            label: "gridloopd-\(args[0])")
    }

    /// Tables, columns, constraints and indexes of the public schema, one line each, sorted: two
    /// databases migrated alike print the same.
    func schema(_ db: PostgresConnection) throws -> [String] {
        let rows = try db.query(
            """
            SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
              FROM information_schema.columns WHERE table_schema = 'public'
            UNION ALL
            SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
            UNION ALL
            SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid)
              FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
            ORDER BY 1
            """)
        return (0..<rows.count).compactMap { rows.string($0, 0) }
    }

    /// `sha256sum *.sql` in `directory`: file name without `.sql` -> hex digest.
    func sha256sum(_ directory: URL) throws -> [String: String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "cd \"$0\" && sha256sum *.sql", directory.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        var sums: [String: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 else { continue }
            sums[String(parts[1].dropLast(4))] = String(parts[0])
        }
        return sums
    }

    func testFourMigrationsAtOnceOnAnEmptyDatabaseAllSucceed() throws {
        let reference = try PostgresConnection(try TestEnvironment.createDatabase("migrate_reference"))
        XCTAssertEqual(try Migrator.migrate(reference), Migrations.all.map(\.name))
        let expected = try schema(reference)
        let fileChecksums = try sha256sum(TestEnvironment.repositoryRoot.appendingPathComponent("schemas/migrations"))
        XCTAssertEqual(fileChecksums.count, Migrations.all.count)
        XCTAssertTrue(expected.contains { $0.hasPrefix("column schema_migrations.checksum ") }, "\(expected)")

        for round in 1...10 {
            let database = try TestEnvironment.createDatabase("migrate_race")
            let runs = try (0..<4).map { _ in try gridloopd(["migrate"], database: database) }
            for run in runs { run.process.waitUntilExit() }
            for run in runs {
                XCTAssertEqual(run.process.terminationStatus, 0, "round \(round): \(run.log)")
            }
            // One of them applied every migration; the others found nothing left to do.
            let logs = runs.map(\.log)
            XCTAssertEqual(
                logs.filter { $0.contains("applied: \(Migrations.all.map(\.name).joined(separator: ", "))") }.count, 1,
                "round \(round): \(logs)")
            XCTAssertEqual(logs.filter { $0.contains("schema is up to date") }.count, 3, "round \(round): \(logs)")

            let db = try PostgresConnection(database)
            XCTAssertEqual(try schema(db), expected, "round \(round)")
            XCTAssertTrue(try Migrator.isCurrent(db))
            // The recorded checksum is the SHA-256 of the migration's file, as `sha256sum` prints it.
            for m in Migrations.all {
                let row = try db.query("SELECT checksum FROM schema_migrations WHERE version = $1", [String(m.version)])
                XCTAssertEqual(row.string(0, 0), fileChecksums[m.name], m.name)
            }
        }
    }

    func testAChangedMigrationIsRefusedByName() throws {
        let database = try TestEnvironment.createDatabase("migrate_changed")
        let first = try gridloopd(["migrate"], database: database)
        first.process.waitUntilExit()
        XCTAssertEqual(first.process.terminationStatus, 0, first.log)
        let db = try PostgresConnection(database)
        // As if 003_redrive.sql had been applied from other text than this binary carries.
        try db.execute("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 3")

        let again = try gridloopd(["migrate"], database: database)
        again.process.waitUntilExit()
        XCTAssertNotEqual(again.process.terminationStatus, 0, again.log)
        for words in [
            "migration 003_redrive", "schemas/migrations/003_redrive.sql", "new numbered migration",
            "SET checksum = NULL WHERE version = 3",
        ] {
            XCTAssertTrue(again.log.contains(words), "'\(words)' missing from: \(again.log)")
        }
        XCTAssertThrowsError(try Migrator.isCurrent(db)) { error in
            XCTAssertEqual((error as? MigrationChecksumError)?.name, "003_redrive", "\(error)")
        }
        // Commands that read the schema refuse too, with the same words.
        let show = try gridloopd(["case", "show", "12345:HF261123000095"], database: database)
        show.process.waitUntilExit()
        XCTAssertNotEqual(show.process.terminationStatus, 0, show.log)
        XCTAssertTrue(show.log.contains("migration 003_redrive"), show.log)

        // What the message offers when the database is known to match: clear the record, migrate.
        try db.execute("UPDATE schema_migrations SET checksum = NULL WHERE version = 3")
        let cleared = try gridloopd(["migrate"], database: database)
        cleared.process.waitUntilExit()
        XCTAssertEqual(cleared.process.terminationStatus, 0, cleared.log)
        XCTAssertTrue(cleared.log.contains("schema is up to date"), cleared.log)
        XCTAssertTrue(try Migrator.isCurrent(db))
    }

    /// Expand-then-contract: a migration this binary does not carry that only expanded the schema
    /// leaves it running (the previous version during a rolling upgrade); one that declares
    /// `-- oldest-binary-schema: N` beyond this binary is refused by `migrate`, the commands and
    /// the daemon, naming the migration and the version to install.
    func testASchemaContractedByANewerVersionIsRefusedWithTheVersionNeeded() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("migrate_too_new")
        let first = try gridloopd(["migrate"], database: database)
        first.process.waitUntilExit()
        XCTAssertEqual(first.process.terminationStatus, 0, first.log)
        let db = try PostgresConnection(database)
        let version = try ChildProcess(binDir + "/gridloopd", ["--version"], environment: [:], label: "version")
        version.process.waitUntilExit()
        let recorded = try db.query("SELECT DISTINCT applied_by FROM schema_migrations")
        XCTAssertEqual(recorded.count, 1)
        XCTAssertEqual(recorded.string(0, 0), version.log.trimmingCharacters(in: .whitespacesAndNewlines), "who migrated it")

        let next = Migrator.latest + 1
        try db.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_by) VALUES (\(next), '\(next)_expand', 'x', '9.8.0')"
        )
        XCTAssertTrue(try Migrator.isCurrent(db), "an expand migration of a newer version: this one runs on")
        try db.execute(
            """
            INSERT INTO schema_migrations (version, name, checksum, oldest_binary_schema, applied_by)
            VALUES (\(next + 1), '\(next + 1)_contract', 'x', \(next), '9.9.0')
            """)
        XCTAssertThrowsError(try Migrator.isCurrent(db)) { error in
            XCTAssertEqual((error as? SchemaTooNewError)?.requiredSchema, next, "\(error)")
        }
        let words = [
            "migration \(next + 1)_contract", "gridloopd 9.9.0",
            "carries migrations up to \(String(format: "%03d", Migrator.latest))",
        ]
        for args in [["migrate"], ["case", "show", "12345:HF1"]] {
            let run = try gridloopd(args, database: database)
            run.process.waitUntilExit()
            XCTAssertNotEqual(run.process.terminationStatus, 0, run.log)
            for w in words { XCTAssertTrue(run.log.contains(w), "\(args): '\(w)' missing from: \(run.log)") }
        }
        let broker = try TestBroker(binDir: binDir, topics: TestBroker.gridloopTopics)
        let daemon = try ChildProcess(
            binDir + "/gridloopd", ["run"], environment: DaemonHarness.environment(broker: broker, database: database),
            label: "too-new")
        let port = try DaemonHarness.httpPort(daemon)
        try eventually("/readyz says which version is needed") {
            guard let r = httpGet(port: port, "/readyz") else { return false }
            return r.status == 503 && r.body.contains("gridloopd 9.9.0")
        }
        XCTAssertEqual(daemon.terminate(), 0)
    }

    func testTheContractDeclarationIsReadFromTheMigration() {
        XCTAssertEqual(Migrator.oldestBinarySchema("-- Drops x.\n-- oldest-binary-schema: 17\nALTER TABLE t DROP COLUMN x;"), 17)
        XCTAssertNil(Migrator.oldestBinarySchema("ALTER TABLE t ADD COLUMN x text;"))
        XCTAssertTrue(Migrations.all.allSatisfy { Migrator.oldestBinarySchema($0.sql) == nil }, "no contract migration yet")
    }

    /// The daemon on a schema with a changed migration keeps running, consumes nothing, and
    /// says why in its log and in `/readyz`.
    func testTheDaemonRefusesAChangedMigrationAndSaysWhyInReadyz() throws {
        let (_, binDir) = try TestEnvironment.require()
        let database = try TestEnvironment.createDatabase("migrate_changed_daemon")
        let broker = try TestBroker(
            binDir: binDir,
            topics: TestBroker.gridloopTopics)
        let env = DaemonHarness.environment(broker: broker, database: database)
        try DaemonHarness.migrate(binDir, env)
        let db = try PostgresConnection(database)
        try db.execute("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 3")
        let daemon = try ChildProcess(binDir + "/gridloopd", ["run"], environment: env, label: "changed-migration")
        let port = try DaemonHarness.httpPort(daemon)
        var body = ""
        try eventually("/readyz names the changed migration") {
            guard let r = httpGet(port: port, "/readyz") else { return false }
            body = r.body
            return r.status == 503 && r.body.contains("migration 003_redrive")
        }
        XCTAssertTrue(body.contains("intake:"), body)
        XCTAssertTrue(daemon.log.contains("migration 003_redrive"), "and the log says so")
        XCTAssertTrue(daemon.isRunning)
        XCTAssertEqual(daemon.terminate(), 0)
    }

    /// A database the previous version migrated has no checksum column: this version's daemon
    /// accepts it as it is, and `migrate` adds the column and records the checksums.
    func testADatabaseMigratedBeforeChecksumsIsGivenThem() throws {
        let database = try TestEnvironment.createDatabase("migrate_before_checksums")
        let db = try PostgresConnection(database)
        try Migrator.migrate(db)
        try db.execute("ALTER TABLE schema_migrations DROP COLUMN checksum")
        XCTAssertTrue(try Migrator.isCurrent(db))

        let run = try gridloopd(["migrate"], database: database)
        run.process.waitUntilExit()
        XCTAssertEqual(run.process.terminationStatus, 0, run.log)
        XCTAssertTrue(run.log.contains("schema is up to date"), run.log)
        let rows = try db.query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        XCTAssertEqual((0..<rows.count).map { rows.int($0, 0) }, Migrations.all.map(\.version))
        for (i, m) in Migrations.all.enumerated() {
            XCTAssertEqual(rows.string(i, 1), Migrator.checksum(m.sql), m.name)
        }
    }
}
