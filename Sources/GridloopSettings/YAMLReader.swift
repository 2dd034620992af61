import Yams

/// Reads one YAML file node by node, so that every refusal can name the file, the line, the
/// key and the problem (`ConfigError`). Shared by the policy and calendar loaders.
struct YAMLReader {
    let file: String

    /// The document's root, or nil for an empty document.
    func compose(_ text: String) throws -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                throw ConfigError(file: file, line: mark.line, key: "(syntax)", problem: "not valid YAML: \(problem)")
            case .duplicatedKeysInMapping(let keys, let context):
                throw ConfigError(
                    file: file, line: context.mark.line, key: keys.joined(separator: ", "),
                    problem: "written twice in the same mapping")
            default:
                throw ConfigError(file: file, line: nil, key: "(syntax)", problem: "not valid YAML: \(error)")
            }
        }
    }

    func error(_ node: Node?, _ key: String, _ problem: String) -> ConfigError {
        ConfigError(file: file, line: node?.mark?.line, key: key, problem: problem)
    }

    /// The pairs of a mapping, in order, refusing keys outside `known` (at the key's line).
    func mapping(_ node: Node, _ key: String, known: [String]) throws -> [(name: String, keyNode: Node, value: Node)] {
        guard case .mapping(let m) = node else { throw error(node, key, "expected a mapping (key: value lines)") }
        var pairs: [(name: String, keyNode: Node, value: Node)] = []
        for (k, v) in m {
            let name = k.string ?? ""
            let path = key.isEmpty ? name : "\(key).\(name)"
            guard known.contains(name) else {
                throw error(k, path, "unknown key (known here: \(known.joined(separator: ", ")))")
            }
            pairs.append((name, k, v))
        }
        return pairs
    }

    /// Requires every key of `required` among `pairs`; the error points at the mapping.
    func require(
        _ required: [String], in pairs: [(name: String, keyNode: Node, value: Node)], of node: Node,
        _ key: String
    ) throws {
        for name in required where !pairs.contains(where: { $0.name == name }) {
            throw error(node, key.isEmpty ? name : "\(key).\(name)", "missing (required)")
        }
    }

    func sequence(_ node: Node, _ key: String) throws -> [Node] {
        guard case .sequence(let s) = node else { throw error(node, key, "expected a list (- item lines or [a, b])") }
        return Array(s)
    }

    /// A single non-empty value.
    func scalar(_ node: Node, _ key: String) throws -> String {
        guard case .scalar(let s) = node else { throw error(node, key, "expected a single value") }
        if s.string.isEmpty || (s.style == .plain && ["~", "null", "Null", "NULL"].contains(s.string)) {
            throw error(node, key, "must not be empty")
        }
        return s.string
    }

    /// A scalar written without quotes (YAML readers may take it for a number or a date).
    func isPlain(_ node: Node) -> Bool {
        if case .scalar(let s) = node { return s.style == .plain }
        return false
    }

    func bool(_ node: Node, _ key: String) throws -> Bool {
        let v = try scalar(node, key)
        guard v == "true" || v == "false", isPlain(node) else { throw error(node, key, "expected true or false, got '\(v)'") }
        return v == "true"
    }

    func int(_ node: Node, _ key: String, in range: ClosedRange<Int>) throws -> Int {
        let v = try scalar(node, key)
        guard let n = Int(v), range.contains(n), isPlain(node) else {
            throw error(node, key, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(v)'")
        }
        return n
    }

    /// One of `values` (the raw values of an enum), named in the error.
    func oneOf<T: RawRepresentable>(_ node: Node, _ key: String, _ values: [T]) throws -> T where T.RawValue == String {
        let v = try scalar(node, key)
        guard let t = values.first(where: { $0.rawValue == v }) else {
            throw error(node, key, "expected one of \(values.map(\.rawValue).joined(separator: ", ")), got '\(v)'")
        }
        return t
    }
}
