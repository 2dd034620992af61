/// Parses the daemon's log lines (`<priority>message key=value ...`), knowing only the format:
/// `JournalLogLineTests` (GridloopdTests) checks `JournalLogHandler` against it, and the
/// process-level tests read the daemon's output with it.
public enum JournalLine {
    /// The priority, the message and the key/values of a line, or nil when it does not parse.
    public static func parse(_ line: String) -> (priority: Int, message: String, fields: [String: String])? {
        guard !line.contains("\n"), line.hasPrefix("<"), let close = line.firstIndex(of: ">"),
            let priority = Int(line[line.index(after: line.startIndex)..<close])
        else { return nil }
        var rest = Substring(line[line.index(after: close)...])
        var words: [Substring] = []
        var fields: [String: String] = [:]
        while !rest.isEmpty {
            let token = rest.prefix { $0 != " " && $0 != "\"" }
            if let eq = token.firstIndex(of: "="), eq != token.startIndex {
                // key=value: the value is bare up to a space, or quoted up to an unescaped quote.
                let key = String(token[..<eq])
                rest = rest[rest.index(after: eq)...]
                var value = ""
                if rest.first == "\"" {
                    rest = rest.dropFirst()
                    var closed = false
                    while let c = rest.popFirst() {
                        if c == "\"" {
                            closed = true
                            break
                        }
                        guard c == "\\" else {
                            value.append(c)
                            continue
                        }
                        switch rest.popFirst() {
                        case "n": value.append("\n")
                        case "r": value.append("\r")
                        case "t": value.append("\t")
                        case "\"": value.append("\"")
                        case "\\": value.append("\\")
                        case "u":
                            guard rest.popFirst() == "{", let end = rest.firstIndex(of: "}"),
                                let code = UInt32(rest[..<end], radix: 16), let scalar = Unicode.Scalar(code)
                            else { return nil }
                            value.unicodeScalars.append(scalar)
                            rest = rest[rest.index(after: end)...]
                        default: return nil
                        }
                    }
                    guard closed, rest.isEmpty || rest.first == " " else { return nil }
                } else {
                    value = String(rest.prefix { $0 != " " })
                    rest = rest.dropFirst(value.count)
                }
                guard fields[key] == nil else { return nil }
                fields[key] = value
            } else {
                guard fields.isEmpty, !token.isEmpty, rest.first != "\"" else { return nil }  // message words come first
                words.append(token)
                rest = rest.dropFirst(token.count)
            }
            rest = rest.drop { $0 == " " }
        }
        return (priority, words.joined(separator: " "), fields)
    }
}
