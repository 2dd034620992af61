import Foundation
import GridloopCore
import Yams

/// Reads the unit directory file (`deploy/units.yaml` documents the format; JSON Schema in
/// `schemas/units.schema.json`; `docs/UNITS.md`) into a `UnitDirectory`, refusing a damaged file
/// with its file, line, key and problem. Each entry's `origin` is `file:line`. Without a
/// configured file the daemon runs `deploy/units.yaml` as built into the binary
/// (`EmbeddedDefaults.units`).
///
/// ```yaml
/// default: {unitCode: DCS340111, unitName: 包河区督查室}
/// community:
///   - {code: "340111002001", unitCode: C340111002001, unitName: 河滨社区居委会}
/// street:
///   - {code: "340111002", unitCode: S340111002, unitName: 包公街道办事处}
/// district:
///   - {district: "340111", category: "09", unitCode: D340111-09, unitName: 包河区水务局}
///   - {district: "340111", unitCode: D340111-ZF, unitName: 包河区人民政府办公室}
/// ```
public enum UnitDirectoryLoader {
    /// Where the built-in directory says it comes from, in messages and origins.
    public static let embeddedName = "(built-in) deploy/units.yaml"

    /// Entries in one file, at most: a district has hundreds of communities, not a hundred thousand.
    static let maxEntries = 100_000

    /// The directory file, or the built-in sample when `file` is nil.
    public static func load(file: String?) throws -> UnitDirectory {
        guard let file else { return try parse(EmbeddedDefaults.units, file: embeddedName) }
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigError(file: file, line: nil, key: "(file)", problem: "cannot be read: \(error.localizedDescription)")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws -> UnitDirectory {
        let r = YAMLReader(file: file)
        guard let root = try r.compose(text) else {
            throw r.error(nil, "(file)", "is empty: a directory names at least its default unit")
        }
        let sections = ["default", "community", "street", "district"]
        guard case .mapping = root else {
            throw r.error(root, "(top level)", "expected a mapping of default, community, street and district")
        }
        // ESTATE is the platform's choice; say so rather than only "unknown key".
        if case .mapping(let m) = root, let k = m.keys.first(where: { ["estate", "ESTATE"].contains($0.string ?? "") }) {
            throw r.error(
                k, k.string ?? "estate",
                "not a level of the directory: at ESTATE the unit is the one the platform dispatched to "
                    + "(known levels: community, street, district)")
        }
        let top = try r.mapping(root, "", known: sections)
        try r.require(["default"], in: top, of: root, "")

        var seenUnits: [String: (name: String, line: Int)] = [:]
        var count = 0
        func unit(_ fields: [(name: String, keyNode: Node, value: Node)], of node: Node, _ key: String) throws -> UnitRef {
            try r.require(["unitCode", "unitName"], in: fields, of: node, key)
            let codeNode = fields.first { $0.name == "unitCode" }!.value
            let code = try Self.code(r, codeNode, "\(key).unitCode")
            let nameNode = fields.first { $0.name == "unitName" }!.value
            let name = try Self.text(r, nameNode, "\(key).unitName", max: FeedLimits.name)
            let line = node.mark?.line ?? 0
            if let seen = seenUnits[code], seen.name != name {
                throw r.error(
                    nameNode, "\(key).unitName",
                    "unit \(code) is named '\(seen.name)' at line \(seen.line): one name per unit code")
            }
            if seenUnits[code] == nil { seenUnits[code] = (name, line) }
            return UnitRef(unitCode: code, unitName: name)
        }
        func origin(_ node: Node) -> String { "\(file):\(node.mark?.line ?? 0)" }

        let defaultNode = top.first { $0.name == "default" }!.value
        let defaultUnit = try unit(
            try r.mapping(defaultNode, "default", known: ["unitCode", "unitName"]), of: defaultNode, "default")

        var entries: [UnitDirectory.Entry] = []
        for (name, _, list) in top where name != "default" {
            let level: LoopLevel = name == "community" ? .community : name == "street" ? .street : .district
            // A section written with no entries (`community:`) is empty, not an error.
            if case .scalar(let s) = list, s.style == .plain, ["", "~", "null"].contains(s.string) { continue }
            var seen: [String: Int] = [:]
            for (i, item) in try r.sequence(list, name).enumerated() {
                count += 1
                guard count <= maxEntries else {
                    throw r.error(item, "\(name)[\(i)]", "more than \(maxEntries) entries in one directory")
                }
                let key = "\(name)[\(i)]"
                let line = item.mark?.line ?? 0
                if level == .district {
                    let fields = try r.mapping(item, key, known: ["district", "category", "unitCode", "unitName"])
                    guard let districtNode = fields.first(where: { $0.name == "district" })?.value else {
                        throw r.error(
                            item, "\(key).district",
                            "missing: a district entry names the district code its department serves (district: \"340111\")")
                    }
                    let district = try Self.code(r, districtNode, "\(key).district")
                    var category: String?
                    if let c = fields.first(where: { $0.name == "category" })?.value {
                        let text = try Self.code(r, c, "\(key).category")
                        guard !text.contains("/") else {
                            throw r.error(
                                c, "\(key).category",
                                "a category is a 12345 category code prefix (\"09\") or a 12319 case type before its "
                                    + "slash (\"供水供气\"), got '\(SafeText.text(text, maxLength: FeedLimits.quoted))'")
                        }
                        category = text
                    }
                    let u = try unit(fields, of: item, key)
                    let dup = "\(district)\u{0}\(category ?? "")\u{0}\(category == nil)"
                    if let first = seen[dup] {
                        throw r.error(
                            item, key,
                            "district \(district) \(category.map { "category \($0)" } ?? "without category") "
                                + "is already at line \(first): one department per district and category")
                    }
                    seen[dup] = line
                    entries.append(.init(level: .district, code: district, category: category, unit: u, origin: origin(item)))
                } else {
                    let fields = try r.mapping(item, key, known: ["code", "unitCode", "unitName"])
                    guard let codeNode = fields.first(where: { $0.name == "code" })?.value else {
                        throw r.error(
                            item, "\(key).code",
                            "missing: a \(name) entry names the \(name) code it serves (code: \"340111002001\")")
                    }
                    let code = try Self.code(r, codeNode, "\(key).code")
                    let u = try unit(fields, of: item, key)
                    if let first = seen[code] {
                        throw r.error(
                            item, key, "\(name) code \(code) is already at line \(first): one unit per \(name) code")
                    }
                    seen[code] = line
                    entries.append(.init(level: level, code: code, unit: u, origin: origin(item)))
                }
            }
        }
        return UnitDirectory(entries: entries, defaultUnit: defaultUnit, defaultOrigin: origin(defaultNode))
    }

    /// A code: at most `FeedLimits.code` characters, no spaces or control characters, digits quoted.
    static func code(_ r: YAMLReader, _ node: Node, _ key: String) throws -> String {
        let v = try text(r, node, key, max: FeedLimits.code)
        guard !v.unicodeScalars.contains(where: { $0.properties.isWhitespace }) else {
            throw r.error(node, key, "must not contain spaces, got '\(SafeText.text(v, maxLength: FeedLimits.quoted))'")
        }
        if r.isPlain(node), v.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw r.error(
                node, key, "write the code in quotes (\"\(v)\"): unquoted digits are a number to YAML, and leading zeros get lost"
            )
        }
        return v
    }

    /// A single value of at most `max` Unicode scalars without control characters (the feeds'
    /// rule for what they keep: the directory's names go into the same events).
    static func text(_ r: YAMLReader, _ node: Node, _ key: String, max: Int) throws -> String {
        let v = try r.scalar(node, key)
        if let c = v.unicodeScalars.first(where: SafeText.isControl) {
            throw r.error(node, key, "holds a control character (U+\(String(c.value, radix: 16, uppercase: true)))")
        }
        guard v.unicodeScalars.count <= max else { throw r.error(node, key, "longer than \(max) characters") }
        guard v.trimmingCharacters(in: .whitespaces) == v else {
            throw r.error(node, key, "starts or ends with a space: '\(SafeText.text(v, maxLength: FeedLimits.quoted))'")
        }
        return v
    }
}
