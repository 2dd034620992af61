import GridloopKafka
import GridloopPipeline
import GridloopTestSupport
import Logging
import XCTest

@testable import gridloopd

/// A log line stays parsable whatever its metadata values hold: a parser that knows only the
/// format (`<priority>message key=value ...`, values bare or in double quotes with backslash
/// escapes) gets every key and value back.
final class JournalLogLineTests: XCTestCase {
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
        let parsed = try XCTUnwrap(JournalLine.parse(line), "does not parse: \(line)")
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
