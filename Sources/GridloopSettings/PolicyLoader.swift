import Foundation
import GridloopCore
import Yams

/// Reads the SLA policy file (`deploy/policy.yaml` documents the format; JSON Schema in
/// `schemas/policy.schema.json`) into an `SLAPolicy`, refusing a damaged file with its file,
/// line, key and problem. Without a configured file the daemon runs `deploy/policy.yaml` as
/// built into the binary (`EmbeddedDefaults.policy`).
///
/// ```yaml
/// levels:
///   ESTATE: {sign: 2wh, handle: 2wd}
///   ...
/// overrides:
///   - match: {urgency: URGENT}
///     sign: 30m
///     handle: 24h
/// warningShare: 0.8
/// urge: {interval: 1wd, cap: 5}
/// onReturn: STOP_CLOCKS_UNTIL_REDISPATCH
/// onUnsatisfiedCallback: ONE_LEVEL_UP
/// platformLimitTightens: true
/// ```
public enum PolicyLoader {
    /// What a RETURN (退单) does, as written in the file (`onReturn`).
    public enum ReturnRule: String, CaseIterable, Sendable {
        /// The case is back with the platform: its clocks stop until REDISPATCH (改派).
        case stopClocksUntilRedispatch = "STOP_CLOCKS_UNTIL_REDISPATCH"
        /// The returning unit stays on the clock until the case is redispatched.
        case keepClocksRunning = "KEEP_CLOCKS_RUNNING"
    }

    /// Where the built-in policy says it comes from, in messages.
    public static let embeddedName = "(built-in) deploy/policy.yaml"

    /// The policy file, or the built-in policy when `file` is nil.
    public static func load(file: String?) throws -> SLAPolicy {
        guard let file else { return try parse(EmbeddedDefaults.policy, file: embeddedName) }
        let text = try ConfigError.text(of: file)
        return try parse(text, file: file)
    }

    /// The largest amount of a limit (more is a typo, and would overflow the arithmetic).
    static let maxAmount = 10_000

    public static func parse(_ text: String, file: String) throws -> SLAPolicy {
        let r = YAMLReader(file: file)
        guard let root = try r.compose(text) else { throw r.error(nil, "(file)", "is empty") }
        let keys = [
            "levels", "overrides", "warningShare", "urge", "onReturn", "onUnsatisfiedCallback", "platformLimitTightens",
            "evaluation",
        ]
        let top = try r.mapping(root, "", known: keys)
        try r.require(keys.filter { $0 != "overrides" && $0 != "evaluation" }, in: top, of: root, "")
        func value(_ name: String) -> Node? { top.first { $0.name == name }?.value }

        // levels: every loop level, each with sign and handle.
        let levelsNode = value("levels")!
        var levels: [LoopLevel: SLAPolicy.Limits] = [:]
        for (name, _, body) in try r.mapping(levelsNode, "levels", known: LoopLevel.allCases.map(\.rawValue)) {
            let key = "levels.\(name)"
            let fields = try r.mapping(body, key, known: ["sign", "handle"])
            try r.require(["sign", "handle"], in: fields, of: body, key)
            let sign = try limit(r, fields.first { $0.name == "sign" }!.value, "\(key).sign")
            let handle = try limit(r, fields.first { $0.name == "handle" }!.value, "\(key).handle")
            levels[LoopLevel(rawValue: name)!] = SLAPolicy.Limits(sign: sign, handle: handle)
        }
        for level in LoopLevel.allCases where levels[level] == nil {
            throw r.error(
                levelsNode, "levels.\(level.rawValue)",
                "missing: every level (ESTATE, COMMUNITY, STREET, DISTRICT) needs its sign and handle limits")
        }

        // overrides: most specific first (SLAPolicy sorts them).
        var overrides: [SLAPolicy.Override] = []
        var criteriaSeen: [String: Int?] = [:]
        if let list = value("overrides") {
            for (i, entry) in try r.sequence(list, "overrides").enumerated() {
                let o = try override(r, entry, key: "overrides[\(i)]", file: file)
                let criteria =
                    "\(o.level?.rawValue ?? "*")|\(o.source?.rawValue ?? "*")|\(o.urgency?.rawValue ?? "*")|\(o.categoryPrefix ?? "\u{0}")"
                if let first = criteriaSeen[criteria] {
                    throw r.error(
                        entry, "overrides[\(i)].match",
                        "the same match as an earlier override\(first.map { " (line \($0))" } ?? ""): merge them")
                }
                criteriaSeen[criteria] = entry.mark?.line
                overrides.append(o)
            }
        }

        let shareNode = value("warningShare")!
        let shareText = try r.scalar(shareNode, "warningShare")
        guard let share = Double(shareText), share > 0, share < 1, r.isPlain(shareNode) else {
            throw r.error(
                shareNode, "warningShare",
                "expected a share of the limit between 0 and 1 (exclusive) such as 0.8, got '\(shareText)'")
        }

        let urgeNode = value("urge")!
        let urge = try r.mapping(urgeNode, "urge", known: ["interval", "cap"])
        try r.require(["interval", "cap"], in: urge, of: urgeNode, "urge")
        let interval = try limit(r, urge.first { $0.name == "interval" }!.value, "urge.interval")
        let cap = try r.int(urge.first { $0.name == "cap" }!.value, "urge.cap", in: 0...100)

        let onReturn = try r.oneOf(value("onReturn")!, "onReturn", ReturnRule.allCases)
        let reopen = try r.oneOf(value("onUnsatisfiedCallback")!, "onUnsatisfiedCallback", SLAPolicy.ReopenRule.allCases)
        let tightens = try r.bool(value("platformLimitTightens")!, "platformLimitTightens")
        let evaluation = try value("evaluation").map { try self.evaluation(r, $0) } ?? .standard

        var policy = SLAPolicy(
            levels: levels, overrides: overrides, warningShare: share, urgeInterval: interval, urgeCap: cap,
            returnStopsClocks: onReturn == .stopClocksUntilRedispatch, reopenUnsatisfied: reopen,
            platformLimitTightens: tightens, evaluation: evaluation)
        policy.version = SLAPolicy.version(ofText: text)
        policy.document = text
        policy.file = file
        return policy
    }

    /// `evaluation: {weights: {response: 30, ...}, minCases: 5, listSize: 3}`; each key optional,
    /// defaulting to `EvaluationPolicy.standard`'s (weights: all or nothing, a rate left out weighs 0).
    static func evaluation(_ r: YAMLReader, _ node: Node) throws -> EvaluationPolicy {
        var e = EvaluationPolicy.standard
        let fields = try r.mapping(node, "evaluation", known: ["weights", "minCases", "listSize"])
        for (name, _, v) in fields {
            switch name {
            case "weights":
                var weights: [EvaluationPolicy.Rate: Double] = [:]
                let known = EvaluationPolicy.Rate.allCases.map(\.rawValue)
                for (rate, _, w) in try r.mapping(v, "evaluation.weights", known: known) {
                    let key = "evaluation.weights.\(rate)"
                    let text = try r.scalar(w, key)
                    guard let x = Double(text), x >= 0, x <= 1000, r.isPlain(w) else {
                        throw r.error(w, key, "expected a weight from 0 to 1000 such as 35, got '\(text)'")
                    }
                    weights[EvaluationPolicy.Rate(rawValue: rate)!] = x
                }
                guard weights.values.contains(where: { $0 > 0 }) else {
                    throw r.error(v, "evaluation.weights", "no weight above 0: the composite would weigh nothing")
                }
                e.weights = weights
            case "minCases": e.minCases = try r.int(v, "evaluation.minCases", in: 1...100_000)
            default: e.listSize = try r.int(v, "evaluation.listSize", in: 0...100)
            }
        }
        return e
    }

    /// `2wh`, `5wd`, `30m`, ...: more than zero, at most `maxAmount`.
    static func limit(_ r: YAMLReader, _ node: Node, _ key: String) throws -> TimeLimit {
        let text = try r.scalar(node, key)
        guard let l = TimeLimit(text), l.amount > 0, l.amount <= maxAmount else {
            throw r.error(
                node, key,
                "expected a limit from 1 to \(maxAmount) of s, m, h, d (natural time), wh (working hours) "
                    + "or wd (working days), such as 2wh, 5wd or 30m; got '\(text)'")
        }
        return l
    }

    static func override(_ r: YAMLReader, _ entry: Node, key: String, file: String) throws -> SLAPolicy.Override {
        let fields = try r.mapping(entry, key, known: ["match", "sign", "handle"])
        guard let matchNode = fields.first(where: { $0.name == "match" })?.value else {
            throw r.error(
                entry, "\(key).match", "missing: an override needs a match (level, source, urgency and/or categoryPrefix)")
        }
        var o = SLAPolicy.Override(origin: "\(file):\(entry.mark?.line ?? 0)")
        let criteria = try r.mapping(matchNode, "\(key).match", known: ["level", "source", "urgency", "categoryPrefix"])
        guard !criteria.isEmpty else {
            throw r.error(matchNode, "\(key).match", "no criteria: give at least one of level, source, urgency, categoryPrefix")
        }
        for (name, _, v) in criteria {
            let k = "\(key).match.\(name)"
            switch name {
            case "level": o.level = try r.oneOf(v, k, LoopLevel.allCases)
            case "source": o.source = try r.oneOf(v, k, CaseSource.allCases)
            case "urgency": o.urgency = try r.oneOf(v, k, Urgency.allCases)
            default:
                let prefix = try r.scalar(v, k)
                guard !prefix.contains(where: \.isWhitespace) else {
                    throw r.error(v, k, "must not contain spaces, got '\(prefix)'")
                }
                if r.isPlain(v), prefix.allSatisfy({ $0.isASCII && $0.isNumber }) {
                    throw r.error(
                        v, k,
                        "write the code in quotes ('\(prefix)'): unquoted digits are a number to YAML, and leading zeros get lost"
                    )
                }
                o.categoryPrefix = prefix
            }
        }
        if let s = fields.first(where: { $0.name == "sign" })?.value { o.sign = try limit(r, s, "\(key).sign") }
        if let h = fields.first(where: { $0.name == "handle" })?.value { o.handle = try limit(r, h, "\(key).handle") }
        guard o.sign != nil || o.handle != nil else {
            throw r.error(entry, key, "no limits: an override sets sign and/or handle")
        }
        return o
    }
}
