import Foundation
import GridloopStore
import GridloopTestSupport
import XCTest

/// The migrations built into the binary are the ones in `schemas/migrations`. No servers needed.
final class EmbeddedMigrationsTests: XCTestCase {
    func testEmbeddedMigrationsMatchTheSQLFiles() throws {
        let dir = Repository.root.appendingPathComponent("schemas/migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted()
        XCTAssertEqual(
            files.map { String($0.dropLast(4)) }, Migrations.all.map(\.name),
            "run scripts/gen/embed-migrations.sh")
        for (file, m) in zip(files, Migrations.all) {
            let sql = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            XCTAssertEqual(
                sql.trimmingCharacters(in: .whitespacesAndNewlines),
                m.sql.trimmingCharacters(in: .whitespacesAndNewlines), "\(file): run scripts/gen/embed-migrations.sh")
        }
    }
}
