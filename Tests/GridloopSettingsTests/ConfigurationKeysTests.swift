import Foundation
import GridloopSettings
import GridloopTestSupport
import XCTest

/// The table of configuration keys (`GridloopConfig.keys`) is the one list of keys: the
/// documentation and the sample file list exactly its keys, and a reload names the ones that
/// need a restart. No servers needed.
final class ConfigurationKeysTests: XCTestCase {
    let root = Repository.root

    func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    func write(_ yaml: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gridloop-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The lines of `text` from the heading `## <title>` to the next `## ` heading.
    func section(_ title: String, of text: String) -> [String] {
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "## \(title)") else { return [] }
        let rest = lines[(start + 1)...]
        return Array(rest.prefix { !$0.hasPrefix("## ") })
    }

    /// The text between backticks on `lines`.
    func quoted(_ lines: [String]) -> [String] {
        lines.flatMap { line in
            line.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map {
                String($0.element)
            }
        }
    }

    /// What looks like a configuration key (`section.name`) or variable (`GRIDLOOP_...`) among
    /// quoted words; file names (`gridloopd.yaml`) are not keys.
    func namedKeys(_ words: [String]) -> (keys: Set<String>, variables: Set<String>) {
        let extensions: Set<String> = ["yaml", "json", "md", "sh", "service", "swift"]
        let keys = words.filter { w in
            let parts = w.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 2 && !extensions.contains(String(parts[1]))
                && parts.allSatisfy { p in !p.isEmpty && p.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
                && parts[0].allSatisfy(\.isLowercase)
        }
        let variables = words.filter { w in
            w.hasPrefix("GRIDLOOP_") && w.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }
        }
        return (Set(keys), Set(variables))
    }

    func testTheTableHasOneEntryPerKeyAndVariable() {
        let paths = GridloopConfig.keys.map(\.path)
        XCTAssertEqual(Set(paths).count, paths.count, "a key listed twice")
        let variables = GridloopConfig.keys.compactMap(\.variable)
        XCTAssertEqual(Set(variables).count, variables.count, "a variable listed twice")
        for v in variables { XCTAssertTrue(v.hasPrefix("GRIDLOOP_"), v) }
        // Keys of a section are together: the parser's list of a section's keys follows the table.
        let sections = GridloopConfig.keys.map(\.section)
        let runs = zip(sections, sections.dropFirst()).filter { $0 != $1 }.count + 1
        XCTAssertEqual(runs, Set(sections).count, "the keys of a section are listed together")
    }

    /// docs/OPERATIONS.md's "Configuration" holds the table `gridloopd check-config --keys`
    /// prints: a markdown table whose first column is the key in backticks, one row per key,
    /// in the order of the table. The README's "Configuration" names some keys and variables,
    /// each of which must exist, and points to that table.
    func testTheDocumentationListsExactlyTheKeysOfTheTable() throws {
        let operations = section("Configuration", of: try read("docs/OPERATIONS.md"))
        let rows = operations.drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
        XCTAssertGreaterThan(rows.count, 2, "docs/OPERATIONS.md: no table under ## Configuration")
        let documented = rows.dropFirst(2).compactMap { row -> String? in
            let cell = row.split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return cell.hasPrefix("`") && cell.hasSuffix("`") ? String(cell.dropFirst().dropLast()) : nil
        }
        let table = GridloopConfig.keys.map(\.path)
        let missing = table.filter { !documented.contains($0) }
        let unknown = documented.filter { GridloopConfig.key($0) == nil }
        XCTAssertEqual(missing, [], "docs/OPERATIONS.md misses keys: paste `gridloopd check-config --keys`")
        XCTAssertEqual(unknown, [], "docs/OPERATIONS.md lists keys that GridloopConfig.keys does not have")
        XCTAssertEqual(
            rows.joined(separator: "\n"), GridloopConfig.keysTable(),
            "docs/OPERATIONS.md: the table differs from GridloopConfig.keys: paste `gridloopd check-config --keys`")
        // Every key and variable its prose names exists.
        let prose = namedKeys(quoted(operations.filter { !$0.hasPrefix("|") }))
        XCTAssertEqual(prose.keys.filter { GridloopConfig.key($0) == nil }.sorted(), [], "docs/OPERATIONS.md")

        let readme = section("Configuration", of: try read("README.md"))
        XCTAssertTrue(readme.joined().contains("docs/OPERATIONS.md"), "README.md points to the table of keys")
        let named = namedKeys(quoted(readme))
        XCTAssertFalse(named.keys.isEmpty, "README.md: the test no longer finds the keys its Configuration names")
        XCTAssertEqual(named.keys.filter { GridloopConfig.key($0) == nil }.sorted(), [], "README.md names unknown keys")
        let variables = Set(GridloopConfig.keys.compactMap(\.variable))
        XCTAssertEqual(named.variables.subtracting(variables).sorted(), [], "README.md names unknown variables")
    }

    /// deploy/gridloopd.yaml lists every key once under its section, at two spaces of
    /// indentation: `  name: default`, or commented out for a key not set by default:
    /// `  # name: example`, or a whole section `# section:` with `#   name: example` under it.
    /// What it sets are the defaults.
    func testTheSampleFileListsEveryKeyWithItsDefault() throws {
        let path = "deploy/gridloopd.yaml"
        func isName(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
        var listed: [String] = []
        var section: String?
        for line in try read(path).components(separatedBy: "\n") {
            // A section, `name:` at the start of the line, or `# name:` alone on its line.
            let header = line.hasPrefix("# ") ? line.dropFirst(2) : Substring(line)
            if let colon = header.firstIndex(of: ":"), isName(header[..<colon]),
                line.first?.isLetter == true || header[header.index(after: colon)...].allSatisfy(\.isWhitespace)
            {
                section = String(header[..<colon])
                continue
            }
            // A key: `  name:`, `  # name:` or `#   name:`.
            var rest: Substring
            if line.hasPrefix("  # ") {
                rest = line.dropFirst(4)
            } else if line.hasPrefix("#   ") {
                rest = line.dropFirst(4)
            } else if line.hasPrefix("  ") {
                rest = line.dropFirst(2)
            } else {
                continue
            }
            guard let colon = rest.firstIndex(of: ":"), isName(rest[..<colon]), let section else { continue }
            listed.append("\(section).\(rest[..<colon])")
        }
        let table = GridloopConfig.keys.map(\.path)
        XCTAssertEqual(table.filter { !listed.contains($0) }, [], "\(path) misses keys")
        XCTAssertEqual(listed.filter { !table.contains($0) }, [], "\(path) lists keys that GridloopConfig.keys does not have")
        XCTAssertEqual(listed.count, Set(listed).count, "\(path) lists a key twice")

        let sample = try GridloopConfig.load(file: root.appendingPathComponent(path).path, environment: [:])
        XCTAssertEqual(sample, GridloopConfig(), "\(path) shows the defaults")
        XCTAssertEqual(GridloopConfig.key("intake.holdWait")?.defaultValue, "30s")
        XCTAssertEqual(GridloopConfig.key("sla.officeHours")?.defaultValue, "09:00-12:00,13:30-17:30")
        XCTAssertNil(GridloopConfig.key("sla.policyFile")?.defaultValue)
    }

    /// Every default the table shows is read back as the default, from the file and from the
    /// environment: the table's form of a value is one its parser accepts.
    func testEveryDefaultShownIsAcceptedAsWritten() throws {
        for key in GridloopConfig.keys {
            guard let value = key.defaultValue else { continue }
            let yaml = "\(key.section):\n  \(key.name): \"\(value)\"\n"
            XCTAssertEqual(try GridloopConfig.load(file: try write(yaml), environment: [:]), GridloopConfig(), key.path)
            if let variable = key.variable {
                XCTAssertEqual(try GridloopConfig.load(file: nil, environment: [variable: value]), GridloopConfig(), variable)
            }
        }
    }

    /// A reload names the keys whose change it cannot apply, and only those.
    func testAReloadNamesTheKeysThatNeedARestart() throws {
        let running = try GridloopConfig.load(file: nil, environment: [:])
        XCTAssertEqual(running.keysNeedingRestart(comparedTo: running), [])
        let new = try GridloopConfig.load(
            file: try write(
                "kafka:\n  brokers: b:1\ntopics:\n  deadLetter: dlq2\nlog:\n  level: debug\nsla:\n  officeHours: [\"08:00-17:00\"]\n"
            ),
            environment: ["GRIDLOOP_POLICY_FILE": "/etc/p.yaml", "GRIDLOOP_READY_MAX_LAG": "5"])
        XCTAssertEqual(running.keysNeedingRestart(comparedTo: new), ["kafka.brokers", "topics.deadLetter", "http.readyMaxLag"])
        let reloaded = Set(GridloopConfig.keys.filter { $0.change == .reload }.map(\.path))
        XCTAssertTrue(
            reloaded.isSuperset(of: ["sla.policyFile", "sla.calendarDirectory", "sla.officeHours", "log.level"]), "\(reloaded)")
    }

    /// An unknown key or section is refused with the known ones, in the table's order.
    func testUnknownKeysAreRefusedWithTheKnownOnes() throws {
        let path = try write("kafka:\n  brokers: a:1\n  bogus: 1\n")
        XCTAssertThrowsError(try GridloopConfig.load(file: path, environment: [:])) { error in
            XCTAssertEqual(
                "\(error)",
                "\(path):3: kafka.bogus: unknown key (known in kafka: brokers, consumerGroup, properties, consumerProperties, producerProperties, saslPasswordFile)"
            )
        }
        let other = try write("intake:\n  holdWait: 1s\nnonsense:\n  x: 1\n")
        XCTAssertThrowsError(try GridloopConfig.load(file: other, environment: [:])) { error in
            XCTAssertEqual(
                "\(error)",
                "\(other):3: nonsense: unknown section (known: \(Set(GridloopConfig.keys.map(\.section)).sorted().joined(separator: ", ")))"
            )
        }
    }
}
