import GridloopKafka
import GridloopPostgres
import GridloopSettings
import GridloopStore
import XCTest

@testable import GridloopPipeline

/// The intake's run loop decides what follows a failed session by its kind: a batch refused for
/// its data restarts at once; the database's failures say the database is down; only the
/// database's and the brokers' are not reported as the intake's own problem in `/readyz`.
final class FailureKindTests: XCTestCase {
    func testEachFailureHasTheKindItsRetryDependsOn() {
        let refused = RefusedBatch(
            error: PostgresError(sqlState: "23514", message: "check", context: "COPY cases"), ranges: [:])
        let table: [(error: any Error, kind: String, databaseDown: Bool, intakeProblem: Bool)] = [
            (refused, "data", false, true),
            (PostgresError(sqlState: "08006", message: "lost", context: "COPY case_events"), "database", true, false),
            (PostgresError(sqlState: "23514", message: "check", context: "COPY cases"), "database", true, false),
            (KafkaError(code: -195, name: "_TRANSPORT", message: "down"), "broker", false, false),
            (OffsetFenceError(), "fenced", false, true),
            (ConfigError(file: "database", line: nil, key: "schema", problem: "not migrated"), "configuration", false, true),
            (MalformedRow(table: "outbox", row: "seq 1", column: "payload"), "invariant", false, true),
        ]
        for row in table {
            let kind = FailureKind(row.error)
            let name: String
            switch kind {
            case .configuration: name = "configuration"
            case .database: name = "database"
            case .broker: name = "broker"
            case .fenced: name = "fenced"
            case .data: name = "data"
            case .invariant: name = "invariant"
            }
            XCTAssertEqual(name, row.kind, "\(row.error)")
            XCTAssertEqual(kind.meansDatabaseDown, row.databaseDown, "\(row.error)")
            XCTAssertEqual(kind.isIntakeProblem, row.intakeProblem, "\(row.error)")
        }
    }

    func testSQLStateClassesByName() {
        func error(_ state: String?) -> PostgresError { PostgresError(sqlState: state, message: "", context: "") }
        XCTAssertTrue(error("23505").hasSQLState(PostgresError.Code.uniqueViolation))
        XCTAssertTrue(error("23505").hasSQLState(PostgresError.Code.integrityConstraintViolation))
        XCTAssertFalse(error("23514").hasSQLState(PostgresError.Code.uniqueViolation))
        for state in ["22001", "23514", "54000"] { XCTAssertTrue(error(state).isCausedByData, state) }
        for state in ["08006", "57P01", "42703", nil] { XCTAssertFalse(error(state).isCausedByData, state ?? "none") }
        for state in ["08006", "57P01", nil] { XCTAssertTrue(error(state).isConnectionFailure, state ?? "none") }
        for state in ["57014", "23505", "42703"] { XCTAssertFalse(error(state).isConnectionFailure, state) }
    }
}
