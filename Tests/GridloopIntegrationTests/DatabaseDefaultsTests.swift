import Foundation
import GridloopStore
import XCTest

@testable import GridloopPostgres

/// The daemon's database timeouts are defaults: whatever the database URL, the `PG*`
/// environment or the server sets wins.
final class DatabaseDefaultsTests: XCTestCase {
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
