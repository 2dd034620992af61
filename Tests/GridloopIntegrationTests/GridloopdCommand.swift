import Foundation
import XCTest

// The daemon's commands as a test runs them: every test class of the integration target has these.
extension XCTestCase {
    /// Runs `gridloopd ARGS`; returns the exit status, stdout and stderr.
    func gridloopd(_ binDir: String, _ args: [String], _ env: [String: String]) throws -> (
        status: Int32, out: String, err: String
    ) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDir + "/gridloopd")
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let dir = FileManager.default.temporaryDirectory
        let out = dir.appendingPathComponent("out-\(UUID().uuidString)")
        let err = dir.appendingPathComponent("err-\(UUID().uuidString)")
        for f in [out, err] { _ = FileManager.default.createFile(atPath: f.path, contents: nil) }
        defer { for f in [out, err] { try? FileManager.default.removeItem(at: f) } }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    /// `gridloopd ARGS --json`, which must succeed, parsed.
    func gridloopdJSON(_ binDir: String, _ args: [String], _ env: [String: String]) throws -> Any {
        let r = try gridloopd(binDir, args + ["--json"], env)
        XCTAssertEqual(r.status, 0, "gridloopd \(args.joined(separator: " ")): \(r.err)")
        return try JSONSerialization.jsonObject(with: Data(r.out.utf8))
    }
}
