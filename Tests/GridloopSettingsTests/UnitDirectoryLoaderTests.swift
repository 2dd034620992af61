import Foundation
import GridloopCore
import GridloopSettings
import GridloopTestSupport
import XCTest

/// The unit directory file: the shipped sample loads and names the units its comments say,
/// the longest district category prefix wins, and every kind of damage is refused with file,
/// line, key and problem.
final class UnitDirectoryLoaderTests: XCTestCase {
    static var samplePath: String { Repository.root.appendingPathComponent("deploy/units.yaml").path }

    /// A case with these codes (the directory reads nothing else of it).
    static func state(
        _ source: CaseSource = .hotline12345, category: String? = nil, type: String = "供水供气/停水",
        district: String? = "340111", street: String? = nil, community: String? = nil
    ) -> CaseState {
        CaseState(
            caseId: "\(source.rawValue):T1", source: source, orderNo: "T1", status: .dispatched, level: .estate,
            unitCode: "E1", unitName: "物业",
            order: OrderFacts(
                categoryCode: category, categoryName: type, urgency: .normal, acceptTime: 0,
                districtCode: district, streetCode: street, communityCode: community),
            assignedAt: 0, lastEventTime: 0)
    }

    func resolve(
        _ d: UnitDirectory, _ level: LoopLevel, _ s: CaseState, learned: LearnedUnits = LearnedUnits()
    ) -> String {
        let r = UnitResolution.resolve(level: level, for: s, directory: d, learned: learned)
        return "\(r.resolvedBy.rawValue) \(r.unit.unitCode)"
    }

    func testTheSampleDirectoryLoadsAndIsTheBuiltInOne() throws {
        let d = try UnitDirectoryLoader.load(file: Self.samplePath)
        let sample = try String(contentsOfFile: Self.samplePath, encoding: .utf8)
        XCTAssertEqual(
            sample.trimmingCharacters(in: .whitespacesAndNewlines),
            EmbeddedDefaults.units.trimmingCharacters(in: .whitespacesAndNewlines),
            "deploy/units.yaml: run scripts/gen/embed-defaults.sh")
        let builtIn = try UnitDirectoryLoader.load(file: nil)
        XCTAssertEqual(builtIn.entries.map(\.unit), d.entries.map(\.unit))
        XCTAssertTrue(builtIn.defaultOrigin.hasPrefix("(built-in) deploy/units.yaml:"), builtIn.defaultOrigin)

        XCTAssertEqual(d.defaultUnit, UnitRef(unitCode: "DCS340111", unitName: "包河区督查室"))
        XCTAssertTrue(d.entries.allSatisfy { $0.origin.hasPrefix(Self.samplePath + ":") }, "\(d.entries.map(\.origin))")
        let lines = sample.components(separatedBy: "\n")
        for e in d.entries {
            let line = Int(e.origin.split(separator: ":").last!)!
            XCTAssertTrue(lines[line - 1].contains(e.unit.unitCode), "\(e.origin) is the entry's own line")
        }
        XCTAssertEqual(d.entries.filter { $0.level == .community }.count, 9)
        XCTAssertEqual(d.entries.filter { $0.level == .street }.count, 4)

        // The communities of the sample feeds: one left out on purpose, two never named by the feeds.
        XCTAssertEqual(resolve(d, .community, Self.state(community: "340111002001")), "directory C340111002001")
        XCTAssertEqual(resolve(d, .community, Self.state(community: "340111012003")), "default DCS340111")
        let learned = LearnedUnits([
            UnitKey(level: .community, code: "340111012003"): .init(
                unit: UnitRef(unitCode: "C340111012003", unitName: "锦绣社区居委会"), caseId: "12345:X", at: 1)
        ])
        XCTAssertEqual(
            resolve(d, .community, Self.state(community: "340111012003"), learned: learned), "learned C340111012003")
        XCTAssertEqual(resolve(d, .street, Self.state(street: "340111012")), "directory S340111012")

        // District departments: the 12345 category code and the 12319 type name the same one.
        XCTAssertEqual(resolve(d, .district, Self.state(category: "0901")), "directory D340111-09")
        XCTAssertEqual(resolve(d, .district, Self.state(.hotline12319, type: "供水供气/停水")), "directory D340111-09")
        XCTAssertEqual(resolve(d, .district, Self.state(category: "0305")), "directory D340111-ZJ")
        XCTAssertEqual(resolve(d, .district, Self.state(category: "0306")), "directory D340111-SJ", "a longer prefix")
        XCTAssertEqual(resolve(d, .district, Self.state(.hotline12319, type: "物业管理/电梯故障")), "directory D340111-ZJ")
        XCTAssertEqual(resolve(d, .district, Self.state(category: "0901", district: "340104")), "default DCS340111")
    }

    /// Every category of the sample feeds has a district department in the sample directory.
    func testEverySampleCategoryHasADepartment() throws {
        let d = try UnitDirectoryLoader.load(file: Self.samplePath)
        let fixtures = Repository.root.appendingPathComponent("Tests/GridloopCoreTests/Fixtures")
        var checked = 0
        for (file, source) in [("12345-sample.kafka", CaseSource.hotline12345), ("12319-sample.kafka", .hotline12319)] {
            let text = try String(contentsOf: fixtures.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                guard let tab = line.firstIndex(of: "\t"),
                    let doc = try JSONSerialization.jsonObject(with: Data(line[line.index(after: tab)...].utf8))
                        as? [String: Any]
                else { continue }
                let order = doc["order"] as? [String: Any]
                let category = (order?["category"] as? [String: Any])?["code"] as? String
                let type = doc["case_type"] as? String
                guard category != nil || type != nil else { continue }
                let s = Self.state(source, category: category, type: type ?? "")
                XCTAssertEqual(
                    UnitResolution.resolve(level: .district, for: s, directory: d, learned: LearnedUnits()).resolvedBy,
                    .directory, "\(file): \(category ?? type!)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 40)
    }

    func testTheLongestDistrictCategoryPrefixWins() throws {
        let d = try UnitDirectoryLoader.parse(
            """
            default: {unitCode: DCS, unitName: 督查室}
            district:
              - {district: "3", unitCode: D-ANY, unitName: 区政府办}
              - {district: "3", category: "09", unitCode: D-09, unitName: 水务局}
              - {district: "3", category: "0901", unitCode: D-0901, unitName: 供水公司}
              - {district: "3", category: "供水供气", unitCode: D-09, unitName: 水务局}
              - {district: "4", category: "09", unitCode: D4-09, unitName: 另一区水务局}
            """, file: "units.yaml")
        XCTAssertEqual(resolve(d, .district, Self.state(category: "0901", district: "3")), "directory D-0901")
        XCTAssertEqual(resolve(d, .district, Self.state(category: "0902", district: "3")), "directory D-09")
        XCTAssertEqual(resolve(d, .district, Self.state(category: "0204", district: "3")), "directory D-ANY")
        XCTAssertEqual(resolve(d, .district, Self.state(category: "0204", district: "4")), "default DCS")
        XCTAssertEqual(resolve(d, .district, Self.state(category: "0901", district: "4")), "directory D4-09")
        XCTAssertEqual(resolve(d, .district, Self.state(.hotline12319, type: "供水供气/停水", district: "3")), "directory D-09")
        XCTAssertEqual(resolve(d, .district, Self.state(.hotline12319, type: "市政设施/路灯", district: "3")), "directory D-ANY")
        XCTAssertEqual(resolve(d, .district, Self.state(category: "0901", district: nil)), "default DCS")
        // `units list` marks a learned unit the file overrides by the same rule.
        XCTAssertEqual(d.entry(for: UnitKey(level: .district, code: "3/0901"))?.unit.unitCode, "D-0901")
        XCTAssertEqual(d.entry(for: UnitKey(level: .district, code: "3/0204"))?.unit.unitCode, "D-ANY")
        XCTAssertNil(d.entry(for: UnitKey(level: .district, code: "4/0204")))
        XCTAssertEqual(d.entries.first { $0.unit.unitCode == "D-0901" }?.origin, "units.yaml:5")
        XCTAssertEqual(d.defaultOrigin, "units.yaml:1")
    }

    /// A valid directory, one item a line, for the damage table.
    static let base = """
        default: {unitCode: DCS1, unitName: 督查室}
        community:
          - {code: "11", unitCode: C11, unitName: 甲社区}
        street:
          - {code: "1", unitCode: S1, unitName: 甲街道}
        district:
          - {district: "3", category: "09", unitCode: D09, unitName: 水务局}
          - {district: "3", unitCode: DZ, unitName: 区政府办}

        """

    func testDamageIsRefusedWithFileLineKeyAndProblem() throws {
        let file = "/etc/gridloop/units.yaml"
        XCTAssertEqual(try UnitDirectoryLoader.parse(Self.base, file: file).entries.count, 4)
        let street = "  - {code: \"1\", unitCode: S1, unitName: 甲街道}\n"
        let water = "  - {district: \"3\", category: \"09\", unitCode: D09, unitName: 水务局}\n"
        let cases: [(String, String, Int?, String, String)] = [
            ("street:", "streets:", 4, "streets", "unknown key (known here: default, community, street, district)"),
            ("street:", "estate:", 4, "estate", "not a level of the directory"),
            ("unitCode: C11, ", "", 3, "community[0].unitCode", "missing"),
            (", unitName: 甲街道", "", 5, "street[0].unitName", "missing"),
            ("{code: \"11\", ", "{", 3, "community[0].code", "missing"),
            ("unitName: 甲社区}", "unitName: 甲社区, grid: \"1\"}", 3, "community[0].grid", "unknown key"),
            (street, street + "  - {code: \"1\", unitCode: S2, unitName: 乙街道}\n", 6, "street[1]", "already at line 5"),
            (water, water + water, 8, "district[1]", "is already at line 7"),
            ("{district: \"3\", category: \"09\", ", "{category: \"09\", ", 7, "district[0].district", "missing"),
            ("{code: \"11\",", "{code: 11,", 3, "community[0].code", "write the code in quotes"),
            ("category: \"09\"", "category: 09", 7, "district[0].category", "write the code in quotes"),
            ("{code: \"11\",", "{code: \"1 1\",", 3, "community[0].code", "must not contain spaces"),
            ("unitName: 甲社区}", "unitName: \"甲\\u0007社区\"}", 3, "community[0].unitName", "control character (U+7)"),
            ("unitCode: S1,", "unitCode: \"S\\u0000\",", 5, "street[0].unitCode", "control character"),
            ("category: \"09\"", "category: \"供水供气/停水\"", 7, "district[0].category", "before its slash"),
            ("unitCode: DZ, unitName: 区政府办", "unitCode: D09, unitName: 区政府", 8, "district[1].unitName", "named '水务局' at line 7"),
            ("unitName: 甲街道}", "unitName: \"\"}", 5, "street[0].unitName", "must not be empty"),
            ("unitName: 甲街道}", "unitName: \" 甲街道\"}", 5, "street[0].unitName", "starts or ends with a space"),
            ("unitName: 甲街道}", "unitName: \(String(repeating: "街", count: 201))}", 5, "street[0].unitName", "longer than 200"),
            (street, "  - S1\n", 5, "street[0]", "expected a mapping"),
            ("street:\n" + street, "street: S1\n", 4, "street", "expected a list"),
            ("default: {unitCode: DCS1, unitName: 督查室}\n", "", nil, "default", "missing"),
            ("default: {unitCode: DCS1, unitName: 督查室}", "default: DCS1", 1, "default", "expected a mapping"),
            ("default: {unitCode: DCS1, unitName: 督查室}", "default: {unitCode: DCS1}", 1, "default.unitName", "missing"),
            (street, street + "  - {code: \"2\", unitCode: S2, unitName: 乙街道\n", nil, "(syntax)", "not valid YAML"),
        ]
        assertRefusals(cases, base: Self.base, file: file) { _ = try UnitDirectoryLoader.parse($0, file: file) }

        for (text, key, problem) in [
            ("", "(file)", "is empty"), ("# only a comment\n", "(file)", "is empty"),
            ("- a\n- b\n", "(top level)", "expected a mapping"),
        ] {
            XCTAssertThrowsError(try UnitDirectoryLoader.parse(text, file: file), text) { error in
                let e = error as? ConfigError
                XCTAssertEqual(e?.file, file)
                XCTAssertEqual(e?.key, key)
                XCTAssertTrue(e?.problem.contains(problem) ?? false, "\(error)")
            }
        }
        // An empty section is no entry at all, not a refusal.
        XCTAssertEqual(
            try UnitDirectoryLoader.parse("default: {unitCode: D, unitName: 督查室}\ncommunity:\n", file: file).entries.count, 0)
        XCTAssertThrowsError(try UnitDirectoryLoader.load(file: "/nonexistent/units.yaml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/units.yaml: (file): cannot be read"), "\(error)")
        }
    }

    /// `units.directory` in the file or GRIDLOOP_UNIT_DIRECTORY names the file; SLASettings loads it.
    func testTheConfigurationNamesTheDirectoryFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let units = dir.appendingPathComponent("units.yaml").path
        try Self.base.write(toFile: units, atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("gridloopd.yaml").path
        try "units:\n  directory: \(units)\n".write(toFile: config, atomically: true, encoding: .utf8)

        let fromFile = try GridloopConfig.load(file: config, environment: [:])
        XCTAssertEqual(fromFile.unitDirectoryFile, units)
        let sla = try SLASettings.load(fromFile)
        XCTAssertEqual(sla.unitsSource, units)
        XCTAssertEqual(sla.units.defaultUnit.unitCode, "DCS1")
        XCTAssertEqual(sla.keeper.directory, sla.units)

        let fromEnvironment = try GridloopConfig.load(file: nil, environment: ["GRIDLOOP_UNIT_DIRECTORY": units])
        XCTAssertEqual(fromEnvironment.unitDirectoryFile, units)
        let builtIn = try SLASettings.load(try GridloopConfig.load(file: nil, environment: [:]))
        XCTAssertEqual(builtIn.unitsSource, "(built-in) deploy/units.yaml")
        XCTAssertEqual(builtIn.units.defaultUnit.unitCode, "DCS340111")

        try Self.base.replacingOccurrences(of: "{code: \"11\",", with: "{code: 11,").write(
            toFile: units, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SLASettings.load(fromFile)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(units):3: community[0].code"), "\(error)")
        }
        XCTAssertThrowsError(try GridloopConfig.load(file: nil, environment: ["GRIDLOOP_UNIT_DIRECTORY": " "]))
    }
}
