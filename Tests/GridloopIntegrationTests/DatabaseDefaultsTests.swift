import Foundation
@testable import GridloopPostgres
import GridloopWorker
import XCTest

/// The daemon's database timeouts are defaults: whatever the database URL, the `PG*`
/// environment or the server sets wins.
final class DatabaseDefaultsTests: XCTestCase {
    func testConnectionKeywordsYieldToTheURLAndTheEnvironment() {
        func added(_ conninfo: String) -> [String] {
            PostgresConnection.unset(DatabaseDefaults.connection, in: conninfo).map(\.0)
        }
        let all = DatabaseDefaults.connection.keys.sorted()
        XCTAssertEqual(added("gridloop"), all, "a plain database name sets nothing else")
        XCTAssertEqual(added("postgresql:///gridloop?host=/run/postgresql"), all)
        XCTAssertEqual(added("postgresql://db.example/gridloop?connect_timeout=3&keepalives_idle=60"),
                       all.filter { $0 != "connect_timeout" && $0 != "keepalives_idle" })
        XCTAssertEqual(added("host=db.example dbname=gridloop tcp_user_timeout=0"), all.filter { $0 != "tcp_user_timeout" })
        setenv("PGCONNECT_TIMEOUT", "25", 1)
        defer { unsetenv("PGCONNECT_TIMEOUT") }
        XCTAssertEqual(added("postgresql:///gridloop"), all.filter { $0 != "connect_timeout" }, "PGCONNECT_TIMEOUT wins too")
        XCTAssertEqual(PostgresConnection.unset(["no_such_keyword": "1"], in: "gridloop").count, 0,
                       "a keyword this libpq does not know is left out, not refused")
    }

    func testStatementTimeoutIsSetOnlyWhereNothingElseSetIt() throws {
        _ = try TestEnvironment.require()
        let url = try TestEnvironment.createDatabase("database_defaults")
        func statementTimeout(_ url: String, _ settings: [String: String]) throws -> String? {
            let db = try PostgresConnection(url, defaults: DatabaseDefaults.connection, settings: settings)
            return try db.query("SHOW statement_timeout").string(0, 0)
        }
        XCTAssertEqual(try statementTimeout(url, DatabaseDefaults.daemonSettings), "45s", "the daemon's default")
        XCTAssertEqual(try statementTimeout(url, [:]), "0", "a command's session has none")
        let inURL = url + "&options=" + "-c statement_timeout=5s".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        XCTAssertEqual(try statementTimeout(inURL, DatabaseDefaults.daemonSettings), "5s", "the URL's options win")
        let off = url + "&options=" + "-c statement_timeout=0".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        XCTAssertEqual(try statementTimeout(off, DatabaseDefaults.daemonSettings), "0", "and may turn it off")
        let admin = try PostgresConnection(url)
        try admin.execute("ALTER DATABASE database_defaults SET statement_timeout = '7s'")
        XCTAssertEqual(try statementTimeout(url, DatabaseDefaults.daemonSettings), "7s", "a setting on the database wins")
    }

    /// A query with a deadline on a session that never answers (here: its backend stopped with
    /// SIGSTOP) gives up at the deadline, and the connection is not used again.
    func testAQueryWithADeadlineGivesUpOnAFrozenSession() throws {
        _ = try TestEnvironment.require()
        let url = try TestEnvironment.createDatabase("query_deadline")
        let db = try PostgresConnection(url)
        let pid = try XCTUnwrap(try db.query("SELECT pg_backend_pid()").int(0, 0))
        XCTAssertEqual(try db.query("SELECT 1", timeout: .seconds(5)).int(0, 0), 1, "an answering server answers")
        XCTAssertEqual(kill(pid_t(pid), SIGSTOP), 0)
        defer { kill(pid_t(pid), SIGCONT) }
        XCTAssertThrowsError(try db.query("SELECT 1", timeout: .milliseconds(500), context: "probe")) { error in
            XCTAssertTrue("\(error)".contains("no answer within"), "\(error)")
        }
        XCTAssertFalse(db.isConnected, "a connection that gave up is not reused")
        XCTAssertThrowsError(try db.query("SELECT 1", timeout: .seconds(5)))
    }
}
