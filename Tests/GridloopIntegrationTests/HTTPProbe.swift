import Foundation
import XCTest

/// Prometheus text exposition, parsed strictly enough to catch a malformed line: `# TYPE` and
/// `# HELP` comments, and samples `name{label="value",...} number`.
struct PrometheusText {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
    }
    var samples: [Sample: Double] = [:]
    var types: [String: String] = [:]
    var helps: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                if parts.count >= 4, parts[1] == "TYPE" {
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3])) else {
                        throw Problem("unknown metric type in: \(line)")
                    }
                    types[String(parts[2])] = String(parts[3])
                }
                if parts.count >= 4, parts[1] == "HELP" { helps[String(parts[2])] = parts[3...].joined(separator: " ") }
                continue
            }
            guard
                let r = line.range(
                    of: #"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([-+0-9.eE]+|NaN|\+Inf|-Inf)$"#, options: .regularExpression),
                r.lowerBound == line.startIndex
            else {
                throw Problem("not a Prometheus sample line: \(line)")
            }
            let nameEnd = line.firstIndex { $0 == "{" || $0 == " " }!
            let name = String(line[..<nameEnd])
            var labels: [String: String] = [:]
            if line[nameEnd] == "{" {
                let close = line.firstIndex(of: "}")!
                let body = line[line.index(after: nameEnd)..<close]
                for pair in body.split(separator: ",") where !pair.isEmpty {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2, kv[1].hasPrefix("\""), kv[1].hasSuffix("\"") else {
                        throw Problem("bad label in: \(line)")
                    }
                    labels[String(kv[0])] = String(kv[1].dropFirst().dropLast())
                }
            }
            let value = line.split(separator: " ").last!
            guard let v = Double(value == "+Inf" ? "inf" : value == "-Inf" ? "-inf" : String(value)) else {
                throw Problem("bad value in: \(line)")
            }
            samples[Sample(name: name, labels: labels)] = v
        }
        // Every metric says what it is (`Metric.help`): a dashboard's author reads nothing else.
        for name in types.keys.sorted() where (helps[name] ?? "").isEmpty {
            throw Problem("metric \(name) has no # HELP line")
        }
    }

    /// Whether any sample of `name` is exported.
    func has(_ name: String) -> Bool { samples.keys.contains { $0.name == name } }

    /// The sum of the samples of `name` whose labels include `matching`.
    func sum(_ name: String, _ matching: [String: String] = [:]) -> Double {
        samples.filter { s, _ in s.name == name && matching.allSatisfy { s.labels[$0.key] == $0.value } }.values.reduce(0, +)
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }
}
