import Foundation
import GridloopCore
import GridloopSettings
import GridloopTestSupport
import XCTest

/// The policy file: the shipped default loads and means what its comments say, the most
/// specific override wins, and every kind of damage is refused with file, line, key and problem.
final class PolicyLoaderTests: XCTestCase {
    static var defaultPath: String { Repository.root.appendingPathComponent("deploy/policy.yaml").path }

    func testTheDefaultPolicyLoads() throws {
        let p = try PolicyLoader.load(file: Self.defaultPath)
        func withoutOrigins(_ policy: SLAPolicy) -> SLAPolicy {
            var q = policy
            // Where it was read from; its text, and so its version, must be the same.
            q.file = ""
            XCTAssertFalse(policy.version.isEmpty)
            q.overrides = q.overrides.map {
                var o = $0
                o.origin = ""
                return o
            }
            return q
        }
        XCTAssertEqual(
            withoutOrigins(try PolicyLoader.load(file: nil)), withoutOrigins(p),
            "the built-in policy is deploy/policy.yaml: run scripts/gen/embed-defaults.sh")
        XCTAssertEqual(p.levels[.estate], .init(sign: TimeLimit("2wh")!, handle: TimeLimit("2wd")!))
        XCTAssertEqual(p.levels[.community], .init(sign: TimeLimit("2wh")!, handle: TimeLimit("3wd")!))
        XCTAssertEqual(p.levels[.street], .init(sign: TimeLimit("2wh")!, handle: TimeLimit("5wd")!))
        XCTAssertEqual(p.levels[.district], .init(sign: TimeLimit("4wh")!, handle: TimeLimit("5wd")!))
        XCTAssertEqual(p.warningShare, 0.8)
        XCTAssertEqual(p.urgeInterval, TimeLimit("1wd")!)
        XCTAssertEqual(p.urgeCap, 5)
        XCTAssertTrue(p.returnStopsClocks)
        XCTAssertEqual(p.reopenUnsatisfied, .oneLevelUp)
        XCTAssertTrue(p.platformLimitTightens)
        XCTAssertEqual(p.evaluation, .standard, "the scorecard's defaults are the file's")
        XCTAssertEqual(p.evaluation.weights, [.response: 30, .resolution: 35, .satisfaction: 35])
        XCTAssertTrue(p.overrides.allSatisfy { $0.origin.hasPrefix(Self.defaultPath + ":") }, "\(p.overrides.map(\.origin))")

        func limits(_ level: LoopLevel, _ source: CaseSource, _ urgency: Urgency, _ code: String?) -> String {
            let l = p.limits(level: level, source: source, urgency: urgency, categoryCode: code)
            return "\(l.sign)/\(l.handle)"
        }
        XCTAssertEqual(limits(.street, .hotline12345, .normal, "0401"), "2wh/5wd")
        XCTAssertEqual(limits(.estate, .hotline12345, .extraUrgent, "0401"), "15m/2h")
        XCTAssertEqual(limits(.district, .hotline12345, .urgent, "0901"), "30m/24h")
        XCTAssertEqual(limits(.street, .hotline12319, .normal, "市政设施"), "2wh/3wd", "12319: handle from the source override")
        XCTAssertEqual(limits(.street, .hotline12319, .urgent, "市政设施"), "30m/24h", "urgency beats source")
        XCTAssertEqual(limits(.community, .hotline12345, .normal, "0204"), "30m/24h", "a missing manhole cover is urgent")
        XCTAssertEqual(limits(.community, .hotline12345, .extraUrgent, "0204"), "15m/2h", "…but never slower than extra urgent")
        XCTAssertEqual(limits(.estate, .hotline12345, .normal, "0306"), "30m/1wd")
    }

    func testTheMostSpecificOverrideWins() throws {
        let yaml = Self.base.replacingOccurrences(
            of: "overrides:\n  - match: {urgency: URGENT}\n    sign: 30m\n    handle: 24h\n",
            with: """
                overrides:
                  - match: {source: "12319"}
                    sign: 1h
                    handle: 4wd
                  - match: {urgency: URGENT}
                    handle: 1wd
                  - match: {categoryPrefix: "02"}
                    handle: 2d
                  - match: {categoryPrefix: "0204"}
                    handle: 6h
                  - match: {level: DISTRICT, source: "12319"}
                    handle: 3wd

                """)
        let p = try PolicyLoader.parse(yaml, file: "policy.yaml")
        func limits(_ level: LoopLevel, _ source: CaseSource, _ urgency: Urgency, _ code: String?) -> String {
            let l = p.limits(level: level, source: source, urgency: urgency, categoryCode: code)
            return "\(l.sign)/\(l.handle)"
        }
        XCTAssertEqual(limits(.street, .hotline12345, .normal, "0401"), "2wh/5wd", "no override: the level")
        XCTAssertEqual(limits(.street, .hotline12319, .normal, "0401"), "1h/4wd", "source")
        XCTAssertEqual(limits(.street, .hotline12319, .urgent, "0401"), "1h/1wd", "urgency beats source; sign still from source")
        XCTAssertEqual(limits(.street, .hotline12319, .urgent, "0201"), "1h/2d", "category prefix beats urgency")
        XCTAssertEqual(limits(.street, .hotline12319, .urgent, "0204"), "1h/6h", "a longer prefix beats a shorter one")
        XCTAssertEqual(limits(.district, .hotline12319, .normal, "0401"), "1h/3wd", "a named level beats any level")
        XCTAssertEqual(limits(.district, .hotline12319, .urgent, "0401"), "1h/1wd", "urgency beats source and level")
        XCTAssertEqual(limits(.street, .hotline12345, .normal, nil), "2wh/5wd", "no category code: prefixes never match")
    }

    /// A valid policy, one item a line, for the damage table.
    static let base = """
        levels:
          ESTATE: {sign: 2wh, handle: 2wd}
          COMMUNITY: {sign: 2wh, handle: 3wd}
          STREET: {sign: 2wh, handle: 5wd}
          DISTRICT: {sign: 4wh, handle: 5wd}
        overrides:
          - match: {urgency: URGENT}
            sign: 30m
            handle: 24h
        warningShare: 0.8
        urge: {interval: 1wd, cap: 5}
        onReturn: STOP_CLOCKS_UNTIL_REDISPATCH
        onUnsatisfiedCallback: ONE_LEVEL_UP
        platformLimitTightens: true

        """

    func testDamageIsRefusedWithFileLineKeyAndProblem() throws {
        let file = "/etc/gridloop/policy.yaml"
        XCTAssertEqual(try PolicyLoader.parse(Self.base, file: file).overrides.count, 1)
        let cases: [(String, String, Int?, String, String)] = [
            (
                "platformLimitTightens: true\n", "platformLimitTightens: true\nescalateTwice: true\n", 15, "escalateTwice",
                "unknown key"
            ),
            ("  STREET:", "  CITY:", 4, "levels.CITY", "unknown key (known here: ESTATE, COMMUNITY, STREET, DISTRICT)"),
            (
                "STREET: {sign: 2wh, handle: 5wd}", "STREET: {sign: 2wh, handle: 3x}", 4, "levels.STREET.handle",
                "expected a limit"
            ),
            ("STREET: {sign: 2wh, handle: 5wd}", "STREET: {sign: 2wh, handle: 5}", 4, "levels.STREET.handle", "got '5'"),
            ("ESTATE: {sign: 2wh, handle: 2wd}", "ESTATE: {sign: 2wh}", 2, "levels.ESTATE.handle", "missing"),
            ("  DISTRICT: {sign: 4wh, handle: 5wd}\n", "", nil, "levels.DISTRICT", "missing"),
            ("sign: 30m", "sign: 0m", 8, "overrides[0].sign", "expected a limit from 1"),
            ("warningShare: 0.8", "warningShare: 1", 10, "warningShare", "between 0 and 1"),
            ("warningShare: 0.8", "warningShare: 0", 10, "warningShare", "between 0 and 1"),
            ("warningShare: 0.8", "warningShare: most", 10, "warningShare", "between 0 and 1"),
            (
                "{urgency: URGENT}", "{urgency: HOT}", 7, "overrides[0].match.urgency",
                "expected one of EXTRA_URGENT, URGENT, NORMAL"
            ),
            ("{urgency: URGENT}", "{source: 12306}", 7, "overrides[0].match.source", "expected one of 12345, 12319"),
            ("{urgency: URGENT}", "{level: CITY}", 7, "overrides[0].match.level", "expected one of ESTATE"),
            ("{urgency: URGENT}", "{urgent: true}", 7, "overrides[0].match.urgent", "unknown key"),
            ("{urgency: URGENT}", "{}", 7, "overrides[0].match", "no criteria"),
            ("{urgency: URGENT}", "{categoryPrefix: 0204}", 7, "overrides[0].match.categoryPrefix", "in quotes"),
            ("    sign: 30m\n    handle: 24h\n", "", 7, "overrides[0]", "no limits"),
            ("  - match: {urgency: URGENT}\n    sign", "  - sign", 7, "overrides[0].match", "needs a match"),
            (
                "    handle: 24h\n", "    handle: 24h\n  - match: {urgency: URGENT}\n    sign: 1h\n", 10, "overrides[1].match",
                "the same match as an earlier override (line 7)"
            ),
            (
                "overrides:\n  - match: {urgency: URGENT}\n    sign: 30m\n    handle: 24h\n", "overrides: none\n", 6, "overrides",
                "expected a list"
            ),
            ("{interval: 1wd, cap: 5}", "{interval: 1wd, cap: many}", 11, "urge.cap", "whole number"),
            ("{interval: 1wd, cap: 5}", "{cap: 5}", 11, "urge.interval", "missing"),
            ("{interval: 1wd, cap: 5}", "{interval: 1x, cap: 5}", 11, "urge.interval", "expected a limit"),
            (
                "onReturn: STOP_CLOCKS_UNTIL_REDISPATCH", "onReturn: yes", 12, "onReturn",
                "expected one of STOP_CLOCKS_UNTIL_REDISPATCH, KEEP_CLOCKS_RUNNING"
            ),
            ("ONE_LEVEL_UP", "TWO_LEVELS_UP", 13, "onUnsatisfiedCallback", "expected one of SAME_LEVEL, ONE_LEVEL_UP"),
            ("onUnsatisfiedCallback: ONE_LEVEL_UP\n", "", nil, "onUnsatisfiedCallback", "missing"),
            ("platformLimitTightens: true", "platformLimitTightens: maybe", 14, "platformLimitTightens", "true or false"),
            ("warningShare: 0.8\n", "warningShare: 0.8\nwarningShare: 0.7\n", nil, "warningShare", "written twice"),
            ("ESTATE: {sign: 2wh, handle: 2wd}", "ESTATE: {sign: 2wh, handle: 2wd", nil, "(syntax)", "not valid YAML"),
        ]
        assertRefusals(cases, base: Self.base, file: file) { _ = try PolicyLoader.parse($0, file: file) }
    }

    /// `evaluation:` is optional, and so is each of its keys; weights left out weigh nothing;
    /// damage is refused like the rest of the file.
    func testTheEvaluationSection() throws {
        XCTAssertEqual(try PolicyLoader.parse(Self.base, file: "p.yaml").evaluation, .standard)
        let mine = try PolicyLoader.parse(
            Self.base + "evaluation:\n  weights: {response: 20, onTime: 20, satisfaction: 60}\n  listSize: 2\n", file: "p.yaml")
        XCTAssertEqual(mine.evaluation.weights, [.response: 20, .onTime: 20, .satisfaction: 60])
        XCTAssertEqual(mine.evaluation.listSize, 2)
        XCTAssertEqual(mine.evaluation.minCases, EvaluationPolicy.standard.minCases)
        // 100 × (20 × 0.5 + 60 × 1) / 80, onTime having no figure.
        XCTAssertEqual(mine.evaluation.composite([.response: 0.5, .onTime: nil, .satisfaction: 1]), 87.5)
        XCTAssertEqual(
            EvaluationPolicy(weights: [.reopen: 1], minCases: 1, listSize: 1).composite([.reopen: 0.25]), 75,
            "lower is better: 1 - rate")
        XCTAssertNil(mine.evaluation.composite([.resolution: 1]))
        let base = Self.base + "evaluation:\n  weights: {response: 30, resolution: 35}\n  minCases: 5\n  listSize: 3\n"
        assertRefusals(
            [
                ("response: 30", "response: -1", 16, "evaluation.weights.response", "expected a weight from 0 to 1000"),
                ("response: 30", "speed: 30", 16, "evaluation.weights.speed", "unknown key"),
                ("{response: 30, resolution: 35}", "{response: 0}", 16, "evaluation.weights", "no weight above 0"),
                ("minCases: 5", "minCases: 0", 17, "evaluation.minCases", "expected a whole number from 1"),
                ("listSize: 3", "listSize: lots", 18, "evaluation.listSize", "expected a whole number from 0"),
                ("  listSize: 3", "  top: 3", 18, "evaluation.top", "unknown key"),
            ], base: base, file: "p.yaml", parse: { _ = try PolicyLoader.parse($0, file: "p.yaml") })
    }

    func testAPolicyFileIsNamedInTheConfiguration() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("policy.yaml").path
        try Self.base.replacingOccurrences(of: "ONE_LEVEL_UP", with: "SAME_LEVEL").write(
            toFile: path, atomically: true, encoding: .utf8)
        let settings = try SLASettings.load(try GridloopConfig.load(file: nil, environment: ["GRIDLOOP_POLICY_FILE": path]))
        XCTAssertEqual(settings.policy.reopenUnsatisfied, .sameLevel)
        XCTAssertEqual(settings.policySource, path)
        XCTAssertThrowsError(
            try SLASettings.load(try GridloopConfig.load(file: nil, environment: ["GRIDLOOP_POLICY_FILE": path + ".missing"]))
        ) {
            XCTAssertTrue("\($0)".hasPrefix(path + ".missing: (file): cannot be read"), "\($0)")
        }
    }
}
