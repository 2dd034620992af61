import Foundation
import XCTest

/// `gridloopd deadline` as an operator runs it: the built binary, its printed deadline, its
/// warnings and its refusals. Needs only the binary (GRIDLOOP_BIN_DIR, or the build directory
/// these tests were built into), no servers.
final class DeadlineCommandTests: XCTestCase {
    /// The built `gridloopd`: from GRIDLOOP_BIN_DIR (scripts/test.sh), else next to this test bundle.
    static func binary() throws -> String {
        var dirs: [URL] = []
        if let b = TestEnvironment.binDir { dirs.append(URL(fileURLWithPath: b)) }
        if let exe = Bundle.main.executableURL { dirs.append(exe.deletingLastPathComponent()) }
        dirs.append(Bundle(for: DeadlineCommandTests.self).bundleURL.deletingLastPathComponent())
        dirs.append(TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug"))
        for d in dirs where FileManager.default.isExecutableFile(atPath: d.appendingPathComponent("gridloopd").path) {
            return d.appendingPathComponent("gridloopd").path
        }
        throw XCTSkip("gridloopd is not built (swift build --build-tests), looked in \(dirs.map(\.path))")
    }

    /// Runs `gridloopd deadline ARGS` with no GRIDLOOP_* variables; returns status, stdout, stderr.
    func deadline(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Self.binary())
        p.arguments = ["deadline"] + args
        p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GRIDLOOP_") }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testPrintsTheDeadlineInRFC3339() throws {
        let cases: [([String], String)] = [
            // Oct 1–8 2025 off; Oct 9, Oct 10, Oct 11 (调休 Saturday).
            (["--from", "2025-09-30T10:00:00+08:00", "--limit", "3wd"], "2025-10-12T00:00:00+08:00"),
            (["--from", "2025-09-30T02:00:00Z", "--limit", "3wd", "--extend", "2wd"], "2025-10-15T00:00:00+08:00"),
            (
                [
                    "--from", "2025-09-30T10:00:00+08:00", "--limit", "3wd",
                    "--suspend", "2025-10-09T00:00:00+08:00/2025-10-10T00:00:00+08:00",
                ], "2025-10-14T00:00:00+08:00"
            ),
            // Spring Festival 2026 in working hours: Fri 16:00–17:30, Sat Feb 14 (调休) 09:00–11:30.
            (["--from", "2026-02-13T16:00:00.000+08:00", "--limit", "4wh"], "2026-02-14T11:30:00+08:00"),
            (["--from", "2026-04-30T23:59:59.5+08:00", "--limit", "30m"], "2026-05-01T00:29:59.500+08:00"),
        ]
        for (args, expected) in cases {
            let r = try deadline(args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.err)")
            XCTAssertEqual(r.out, expected + "\n", "\(args)")
            XCTAssertEqual(r.err, "", "\(args)")
        }
    }

    func testAYearWithoutCalendarIsCountedMondayToFridayWithAWarning() throws {
        let r = try deadline(["--from", "2026-12-30T10:00:00+08:00", "--limit", "3wd"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "2027-01-05T00:00:00+08:00\n", "Dec 31, then 2027 Mon–Fri: Jan 1 Fri, Jan 4 Mon")
        XCTAssertTrue(r.err.contains("no official calendar for 2027"), r.err)
        XCTAssertTrue(r.err.contains("counted Monday–Friday"), r.err)

        // --calendar replaces the built-in calendars: with only 2025, 2026's Spring Festival is not known.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(
            atPath: TestEnvironment.repositoryRoot.appendingPathComponent("deploy/calendars/cn-2025.yaml").path,
            toPath: dir.appendingPathComponent("cn-2025.yaml").path)
        let only2025 = try deadline(["--from", "2026-02-12T10:00:00+08:00", "--limit", "3wd", "--calendar", dir.path])
        XCTAssertEqual(only2025.out, "2026-02-18T00:00:00+08:00\n")
        XCTAssertTrue(only2025.err.contains("no official calendar for 2026"), only2025.err)
    }

    func testBadInputIsRefusedClearly() throws {
        let cases: [([String], String)] = [
            (
                ["--from", "2025-09-30T10:00:00+08:00", "--limit", "3wd", "--extend", "2h"],
                "an extension adds to the limit in the limit's unit"
            ),
            (["--from", "2025-09-30 10:00", "--limit", "3wd"], "--from '2025-09-30 10:00': expected an RFC 3339 time"),
            (["--from", "2025-09-30T10:00:00+08:00", "--limit", "3x"], "--limit '3x'"),
            (
                ["--from", "2025-09-30T10:00:00+08:00", "--limit", "3wd", "--suspend", "2025-10-09T00:00:00+08:00"],
                "expected FROM/TO"
            ),
            (
                [
                    "--from", "2025-09-30T10:00:00+08:00", "--limit", "3wd",
                    "--suspend", "2025-10-10T00:00:00+08:00/2025-10-09T00:00:00+08:00",
                ], "FROM must be before TO"
            ),
            (
                ["--from", "2025-09-30T10:00:00+08:00", "--limit", "3wd", "--calendar", "/nonexistent/calendars"],
                "/nonexistent/calendars"
            ),
            (["--limit", "3wd"], "--from"),
        ]
        for (args, message) in cases {
            let r = try deadline(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertEqual(r.out, "", "\(args)")
            XCTAssertTrue(r.err.contains(message), "\(args): \(r.err)")
            XCTAssertFalse(r.err.contains("Fatal error"), "\(args): \(r.err)")
        }
    }
}
