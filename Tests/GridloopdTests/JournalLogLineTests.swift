import GridloopKafka
import GridloopPipeline
import Logging
import XCTest

@testable import gridloopd

/// A log line stays parsable whatever its metadata values hold: a parser that knows only the
/// format (`<priority>message key=value ...`, values bare or in double quotes with backslash
/// escapes) gets every key and value back.
final class JournalLogLineTests: XCTestCase {
    /// The priority, the message and the key/values of a line, or nil when it does not parse.
    static func parse(_ line: String) -> (priority: Int, message: String, fields: [String: String])? {
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

    func testEveryValueComesBackWhateverItHolds() throws {
        let values: [String: String] = [
            "plain": "gridloop.case.escalated",
            "empty": "",
            "spaces": "two words",
            "quote": #"say "hi""#,
            "lone_quote": "\"",
            "backslash": #"C:\path\"#,
            "newline": "first\nsecond",
            "crlf": "a\r\nb",
            "tab": "a\tb",
            "control": "bell\u{07}esc\u{1B}del\u{7F}",
            "equals": "a=b",
            "fake_field": #"x" injected=1 y=""#,
            "unicode": "区县 12345",
        ]
        let metadata = values.mapValues { Logger.MetadataValue.string($0) }
        let line = JournalLogHandler.line(priority: 3, message: "batch refused", metadata: metadata)
        let parsed = try XCTUnwrap(Self.parse(line), "does not parse: \(line)")
        XCTAssertEqual(parsed.priority, 3)
        XCTAssertEqual(parsed.message, "batch refused")
        XCTAssertEqual(parsed.fields, values, line)
        XCTAssertFalse(line.contains("\n") || line.contains("\r"), "one line: \(line)")
    }

    func testPlainValuesStayBare() {
        let line = JournalLogHandler.line(
            priority: 6, message: "batch committed",
            metadata: ["topic": "hotline.12345.workorders", "partition": "3", "offset": "42"])
        XCTAssertEqual(line, "<6>batch committed offset=42 partition=3 topic=hotline.12345.workorders")
    }

    /// librdkafka's syslog levels become the swift-log levels that `JournalLogHandler` writes
    /// back as the same journald priority (emergency and alert, which swift-log lacks, as crit).
    func testKafkaLevelsMapToSwiftLogLevels() throws {
        let expected: [(KafkaLogLevel, Logger.Level)] = [
            (.emergency, .critical), (.alert, .critical), (.critical, .critical), (.error, .error),
            (.warning, .warning), (.notice, .notice), (.info, .info), (.debug, .debug),
        ]
        for (kafka, swift) in expected { XCTAssertEqual(Logger.Level(kafka), swift, "\(kafka)") }
        XCTAssertEqual(KafkaLogLevel.allCases.count, expected.count, "every librdkafka level mapped")
    }
}
