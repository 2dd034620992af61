import Foundation
import Yams

/// One value given for a configuration key, as a `ConfigKey` parses it: a node of the YAML file
/// or the text of an environment variable. Its refusals name the file (or the variable), the
/// line and the key, so that every key's parser says only what it expects.
struct ConfigInput {
    /// What was written: a YAML node (scalar, list or mapping) or an environment variable's text.
    enum Written {
        case node(Node)
        case text(String)
    }

    /// The key path, such as `intake.holdWait`.
    let key: String
    /// The file, or `environment variable GRIDLOOP_...`.
    let file: String
    /// The value's line in the file; nil for an environment variable.
    let line: Int?
    let written: Written

    init(key: String, file: String, node: Node) {
        self.key = key
        self.file = file
        self.line = node.mark?.line
        self.written = .node(node)
    }

    init(key: String, variable: String, text: String) {
        self.key = key
        self.file = "environment variable \(variable)"
        self.line = nil
        self.written = .text(text)
    }

    func fail(_ problem: String) -> ConfigError { ConfigError(file: file, line: line, key: key, problem: problem) }

    /// The value as written, untrimmed: the variable's text, or a YAML scalar (a list or a
    /// mapping is refused).
    func scalar() throws -> String {
        switch written {
        case .text(let text): return text
        case .node(let node):
            guard case .scalar(let scalar) = node else { throw fail("expected a single value") }
            return scalar.string
        }
    }

    /// The value without surrounding blanks, refused when nothing is left.
    func nonEmpty() throws -> String {
        let v = try scalar().trimmingCharacters(in: .whitespaces)
        if v.isEmpty { throw fail("must not be empty") }
        return v
    }

    /// A whole number from 1 to `max`.
    func positive(max: Int) throws -> Int {
        let value = try scalar()
        guard let n = Int(value), n > 0, n <= max else {
            throw fail("expected a whole number from 1 to \(max), got '\(value)'")
        }
        return n
    }

    /// A duration (`250ms`, `30s`, `5m`, `1h`) in milliseconds within `range`; `expected` says
    /// what a refusal asks for (`a duration up to 24h such as 30s or 5m`).
    func duration(_ range: ClosedRange<Int>, expected: String) throws -> Int {
        let value = try scalar()
        guard let ms = GridloopConfig.milliseconds(value), range.contains(ms) else {
            throw fail("expected \(expected), got '\(value)'")
        }
        return ms
    }

    /// librdkafka properties. In the file, a mapping that replaces `current`; in the
    /// environment, `name=value,name=value` pairs added to (and overriding) `current`.
    func properties(over current: [String: String]) throws -> [String: String] {
        switch written {
        case .text(let text):
            var dict = current
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw fail("expected name=value pairs separated by commas, got '\(pair)'")
                }
                dict[parts[0].trimmingCharacters(in: .whitespaces)] = String(parts[1])
            }
            return dict
        case .node(let node):
            guard case .mapping(let props) = node else { throw fail("expected a mapping of librdkafka properties") }
            var dict: [String: String] = [:]
            for (pk, pv) in props {
                guard let ks = pk.string, let vs = pv.string else {
                    throw ConfigError(
                        file: file, line: pk.mark?.line, key: key, problem: "property names and values must be scalars")
                }
                dict[ks] = vs
            }
            return dict
        }
    }

    /// The items of a list with their lines: a YAML list, or one value of items separated by
    /// commas (`09:00-12:00,13:30-17:30`, the environment's form), each at the value's line.
    func list() throws -> [(text: String, line: Int?)] {
        if case .node(let node) = written, case .sequence(let items) = node {
            return items.map { ($0.string ?? "", $0.mark?.line) }
        }
        return try scalar().split(separator: ",").map { (String($0), line) }
    }
}
