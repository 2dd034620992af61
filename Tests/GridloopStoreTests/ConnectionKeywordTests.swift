import Foundation
import GridloopStore
import XCTest

@testable import GridloopPostgres

/// The connection keywords of `DatabaseDefaults` are defaults: a keyword the database URL or the
/// `PG*` environment sets wins. Their effect on a server is `DatabaseDefaultsTests`'
/// (GridloopIntegrationTests). No servers needed.
final class ConnectionKeywordTests: XCTestCase {
    func testConnectionKeywordsYieldToTheURLAndTheEnvironment() {
        func added(_ conninfo: String) -> [String] {
            PostgresConnection.unset(DatabaseDefaults.connection, in: conninfo).map(\.0)
        }
        let all = DatabaseDefaults.connection.keys.sorted()
        XCTAssertEqual(added("gridloop"), all, "a plain database name sets nothing else")
        XCTAssertEqual(added("postgresql:///gridloop?host=/run/postgresql"), all)
        XCTAssertEqual(
            added("postgresql://db.example/gridloop?connect_timeout=3&keepalives_idle=60"),
            all.filter { $0 != "connect_timeout" && $0 != "keepalives_idle" })
        XCTAssertEqual(added("host=db.example dbname=gridloop tcp_user_timeout=0"), all.filter { $0 != "tcp_user_timeout" })
        setenv("PGCONNECT_TIMEOUT", "25", 1)
        defer { unsetenv("PGCONNECT_TIMEOUT") }
        XCTAssertEqual(added("postgresql:///gridloop"), all.filter { $0 != "connect_timeout" }, "PGCONNECT_TIMEOUT wins too")
        XCTAssertEqual(
            PostgresConnection.unset(["no_such_keyword": "1"], in: "gridloop").count, 0,
            "a keyword this libpq does not know is left out, not refused")
    }
}
