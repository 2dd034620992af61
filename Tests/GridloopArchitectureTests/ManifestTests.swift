import Foundation
import XCTest

/// The layering of docs/ARCHITECTURE.md ("Targets"), checked on the sources as they are: every
/// dependency of a target in Package.swift points down the order below, and SQL is written only
/// in GridloopStore. Reads files only; no servers needed.
final class ManifestTests: XCTestCase {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Each target's layer: a target may depend only on targets of a lower layer (so the C
    /// adapters do not depend on each other, nor the executables on each other).
    static let layer: [String: Int] = [
        "GridloopCore": 0, "CRdKafka": 0, "CLibPQ": 0,
        "GridloopKafka": 1, "GridloopPostgres": 1, "GridloopHTTP": 1,
        "GridloopSettings": 2,
        "GridloopStore": 3,
        "GridloopPipeline": 4,
        "GridloopAnalytics": 5,
        "GridloopViews": 6,
        "GridloopEvaluation": 7, "GridloopForesight": 7,
        "gridloopd": 8, "gridloop-broker": 8,
        // Above everything: only test targets (not checked here) may depend on it.
        "GridloopTestSupport": 9,
    ]

    /// The non-test targets of the manifest and the targets (not products) each depends on.
    static func targets(_ manifest: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        let kinds = [".target(", ".executableTarget(", ".systemLibrary("]
        var rest = Substring(manifest)
        while let start = kinds.compactMap({ rest.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            // The declaration runs to its closing parenthesis.
            var depth = 1
            var i = start.upperBound
            while i < rest.endIndex, depth > 0 {
                if rest[i] == "(" { depth += 1 } else if rest[i] == ")" { depth -= 1 }
                i = rest.index(after: i)
            }
            let declaration = String(rest[start.upperBound..<i])
            rest = rest[i...]
            guard let name = firstMatch(#"name:\s*"([^"]+)""#, in: declaration) else { continue }
            var dependencies: [String] = []
            if let list = declaration.range(of: "dependencies:") {
                // The bracketed list; products are `.product(name: ...)` and are left out.
                let tail = declaration[list.upperBound...]
                if let open = tail.firstIndex(of: "["), let close = tail.firstIndex(of: "]") {
                    var items = String(tail[tail.index(after: open)..<close])
                    items = items.replacingOccurrences(of: #"\.product\([^)]*\)"#, with: "", options: .regularExpression)
                    dependencies = matches(#""([^"]+)""#, in: items)
                }
            }
            result[name] = dependencies
        }
        return result
    }

    func testDependenciesPointDownTheLayers() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let targets = Self.targets(manifest)
        XCTAssertEqual(
            Set(targets.keys), Set(Self.layer.keys),
            "every target has a place in the order (add a new one to `layer` and to docs/ARCHITECTURE.md)")
        XCTAssertEqual(targets["GridloopCore"], [], "the core depends on nothing")
        for (target, dependencies) in targets {
            guard let own = Self.layer[target] else { continue }
            for dependency in dependencies {
                let theirs = try XCTUnwrap(Self.layer[dependency], "\(target) depends on unknown \(dependency)")
                XCTAssertLessThan(theirs, own, "\(target) must not depend on \(dependency): it is not below it")
            }
        }
    }

    /// The parser reads what it should: a test of the test, on a small manifest.
    func testTheManifestReaderFindsTargetsAndLeavesProductsOut() {
        let manifest = """
            .target(name: "A"),
            .target(
                name: "B",
                dependencies: [
                    "A", .product(name: "Logging", package: "swift-log"),
                ]),
            .testTarget(name: "BTests", dependencies: ["B"]),
            .executableTarget(name: "c", dependencies: ["B", "A"]),
            """
        let targets = Self.targets(manifest)
        XCTAssertEqual(targets["A"], [])
        XCTAssertEqual(targets["B"], ["A"])
        XCTAssertEqual(targets["c"], ["B", "A"])
        XCTAssertNil(targets["BTests"], "test targets are not layered")
        XCTAssertNil(targets["Logging"])
    }

    /// SQL statements are written only in GridloopStore. Comments may name them; GridloopPostgres,
    /// the libpq adapter, applies a connection's settings (`set_config`) and runs transactions.
    func testSQLIsWrittenOnlyInTheStore() throws {
        let statement =
            #"\b(SELECT|INSERT INTO|DELETE FROM|UPDATE \w+ (\w+ )?SET|COPY \w+|CREATE (TEMP |UNIQUE )?(TABLE|INDEX)|ALTER TABLE|DROP TABLE|TRUNCATE)\b"#
        var checked = 0
        for file in try Self.sources(except: ["GridloopStore", "GridloopPostgres"]) {
            checked += 1
            for (n, line) in file.lines.enumerated() {
                let code = line.range(of: "//").map { line[..<$0.lowerBound] } ?? line[...]
                if code.range(of: statement, options: .regularExpression) != nil {
                    XCTFail("\(file.name):\(n + 1): SQL outside GridloopStore: \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        XCTAssertGreaterThan(checked, 20, "the sources were found")
    }

    /// Only the Store (every SQL statement, each query's row type) and the Pipeline (which owns the
    /// connections' life: connect, transaction, reconnect) use libpq's adapter: the views, the
    /// reports, the analytics and the executable hold a `Database` and read the Store's row
    /// types, never result columns by position, and do not declare the dependency either.
    func testOnlyTheStoreAndThePipelineUseThePostgresAdapter() throws {
        let allowed: Set<String> = ["GridloopStore", "GridloopPipeline", "GridloopPostgres"]
        var checked = 0
        for file in try Self.sources(except: allowed) {
            checked += 1
            for (n, line) in file.lines.enumerated()
            where line.range(of: #"^\s*(@\w+\s+)*import\s+GridloopPostgres\b"#, options: .regularExpression) != nil
                || line.contains("PostgresRows")
            {
                XCTFail("\(file.name):\(n + 1): \(line.trimmingCharacters(in: .whitespaces)) (only the Store and the Pipeline)")
            }
        }
        XCTAssertGreaterThan(checked, 20, "the sources were found")
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        for (target, dependencies) in Self.targets(manifest) where !allowed.contains(target) {
            XCTAssertFalse(dependencies.contains("GridloopPostgres"), "\(target) must not depend on GridloopPostgres")
        }
    }

    /// Every Swift file of `Sources/`, but those of the targets `except`: `Target/File.swift` and its lines.
    static func sources(except: Set<String>) throws -> [(name: String, lines: [Substring])] {
        let sources = root.appendingPathComponent("Sources")
        var files: [(name: String, lines: [Substring])] = []
        for target in try FileManager.default.contentsOfDirectory(atPath: sources.path) where !except.contains(target) {
            let dir = sources.appendingPathComponent(target)
            let enumerator = FileManager.default.enumerator(atPath: dir.path)
            while let file = enumerator?.nextObject() as? String {
                guard file.hasSuffix(".swift") else { continue }
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                files.append(("\(target)/\(file)", text.split(separator: "\n", omittingEmptySubsequences: false)))
            }
        }
        return files
    }

    static func firstMatch(_ pattern: String, in text: String) -> String? { matches(pattern, in: text).first }

    /// The first capture group of every match.
    static func matches(_ pattern: String, in text: String) -> [String] {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return [] }
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
    }
}
