import Foundation

/// A configuration problem, naming the file, line, key and what is wrong.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var key: String
    public var problem: String
    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(key): \(problem)"
    }

    package init(file: String, line: Int?, key: String, problem: String) {
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
    }

    /// The text of a file the operator named (configuration, policy, calendar, unit directory),
    /// or a refusal naming it.
    static func text(of file: String) throws -> String {
        do {
            return try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigError(file: file, line: nil, key: "(file)", problem: "cannot be read: \(error.localizedDescription)")
        }
    }
}
