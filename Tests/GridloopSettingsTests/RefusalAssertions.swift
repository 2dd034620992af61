import GridloopSettings
import XCTest

/// One damage per case: `old` in `base` replaced by `new` must be refused with the file, the
/// line (when given), the key and a problem text containing `problem`.
func assertRefusals(
    _ cases: [(String, String, Int?, String, String)], base: String, file: String,
    parse: (String) throws -> Void, sourceFile: StaticString = #filePath, sourceLine: UInt = #line
) {
    for (old, new, line, key, problem) in cases {
        XCTAssertTrue(base.contains(old), old, file: sourceFile, line: sourceLine)
        let yaml = base.replacingOccurrences(of: old, with: new)
        XCTAssertThrowsError(try parse(yaml), "\(old) → \(new)", file: sourceFile, line: sourceLine) { error in
            guard let e = error as? ConfigError else { return XCTFail("\(error)", file: sourceFile, line: sourceLine) }
            XCTAssertEqual(e.file, file, file: sourceFile, line: sourceLine)
            if let line { XCTAssertEqual(e.line, line, "\(e)", file: sourceFile, line: sourceLine) }
            XCTAssertEqual(e.key, key, "\(e)", file: sourceFile, line: sourceLine)
            XCTAssertTrue(e.problem.contains(problem), "\(e)", file: sourceFile, line: sourceLine)
            XCTAssertTrue(
                e.description.hasPrefix(file + (line.map { ":\($0)" } ?? "")), "\(e)", file: sourceFile, line: sourceLine)
        }
    }
}
