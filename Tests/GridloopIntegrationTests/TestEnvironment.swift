import Foundation
import GridloopPostgres
import GridloopTestSupport
import XCTest

/// Where the integration tests find their servers and binaries: environment variables set by
/// `scripts/test.sh`. Run locally without them, the tests skip; with CI=true they fail instead.
enum TestEnvironment {
    static var adminURL: String? { ProcessInfo.processInfo.environment["POSTGRES_ADMIN_URL"] }
    static var binDir: String? { ProcessInfo.processInfo.environment["GRIDLOOP_BIN_DIR"] }
    static var repositoryRoot: URL { Repository.root }

    /// Returns the admin URL and bin dir, or skips (fails in CI) when the script did not set them.
    static func require() throws -> (adminURL: String, binDir: String) {
        guard let a = adminURL, let b = binDir else {
            let message = "integration test needs POSTGRES_ADMIN_URL and GRIDLOOP_BIN_DIR: run scripts/test.sh"
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail(message)
                throw XCTSkip(message)
            }
            throw XCTSkip(message)
        }
        return (a, b)
    }

    /// Creates a fresh database and returns its URL.
    static func createDatabase(_ name: String) throws -> String {
        let (admin, _) = try require()
        let db = try PostgresConnection(admin)
        try db.execute("DROP DATABASE IF EXISTS \(name)")
        try db.execute("CREATE DATABASE \(name)")
        return admin.replacingOccurrences(of: "/postgres?", with: "/\(name)?")
    }

    static func fixture(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("Tests/GridloopCoreTests/Fixtures/\(name)")
    }

    /// `key<TAB>value` lines of a feed file, as bytes.
    static func feedLines(_ url: URL) throws -> [(key: [UInt8]?, value: [UInt8])] {
        let data = try Data(contentsOf: url)
        var out: [(key: [UInt8]?, value: [UInt8])] = []
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard let tab = line.firstIndex(of: UInt8(ascii: "\t")) else {
                out.append((nil, Array(line)))
                continue
            }
            let key = Array(line[line.startIndex..<tab])
            out.append((key.isEmpty ? nil : key, Array(line[(tab + 1)...])))
        }
        return out
    }

    /// Runs `scripts/gen/gen_feed.py` and returns its lines.
    static func generatedFeed(_ args: [String]) throws -> [(key: [UInt8]?, value: [UInt8])] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString).kafka")
        defer { try? FileManager.default.removeItem(at: out) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", repositoryRoot.appendingPathComponent("scripts/gen/gen_feed.py").path] + args
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw XCTSkip("gen_feed.py failed") }
        return try feedLines(out)
    }
}

/// A child process (broker or daemon) that the test owns and always stops.
final class ChildProcess {
    let process = Process()
    let logURL: URL

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], label: String) throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        // A host with an installed package has /etc/gridloop/gridloopd.yaml, which the commands
        // read by default: the tests configure their daemons by environment only.
        env["GRIDLOOP_CONFIG"] = env["GRIDLOOP_CONFIG"] ?? ""
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM, then waits for the exit; returns the exit status.
    @discardableResult
    func terminate() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A development broker process (librdkafka's mock cluster) for one test.
final class TestBroker {
    /// The daemon's topics under their default names: both intake feeds, the dead letters and the
    /// three outbound streams.
    static let gridloopTopics = [
        IntakeIntegrationTests.t12345, IntakeIntegrationTests.t12319, IntakeIntegrationTests.dlq,
        "gridloop.escalations", "gridloop.supervision", "gridloop.outcomes", "gridloop.reports",
    ]
    let child: ChildProcess
    let bootstrap: String

    init(binDir: String, partitions: Int = 4, topics: [String]) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bootstrap-\(UUID().uuidString)")
        var args = ["--partitions", String(partitions), "--bootstrap-file", file.path]
        for t in topics { args += ["--topic", t] }
        child = try ChildProcess(binDir + "/gridloop-broker", args, label: "broker")
        var found: String?
        for _ in 0..<400 {
            if let s = try? String(contentsOf: file, encoding: .utf8), !s.isEmpty {
                found = s.trimmingCharacters(in: .whitespacesAndNewlines)
                break
            }
            usleep(25_000)
        }
        guard let found else { throw XCTSkip("broker did not start: \(child.log)") }
        bootstrap = found
    }
}

/// Polls `condition` until it holds or `attempts` run out (a guard against hanging, not a timing assertion).
func eventually(
    _ what: @autoclosure () -> String, attempts: Int = 1200, every micros: UInt32 = 100_000,
    _ condition: () throws -> Bool
) throws {
    for _ in 0..<attempts {
        if try condition() { return }
        usleep(micros)
    }
    let description = what()
    XCTFail("gave up waiting: \(description)")
    throw XCTSkip("gave up waiting: \(description)")
}

/// Runs a shell command and returns its exit status. posix_spawn and waitpid, not Foundation's
/// Process: its exit monitor sometimes misses a child that exits at once.
func shell(_ command: String) -> Int32 {
    // pg_ctl's server inherits open descriptors: keep it off the test runner's pipes.
    let words = ["/bin/sh", "-c", command + " </dev/null >/dev/null 2>&1"]
    let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    return (status >> 8) & 0xff
}
