import GridloopCore
import XCTest

/// Whatever goes in, what comes out fits a PostgreSQL text column and one log line.
final class SafeTextTests: XCTestCase {
    func testControlCharactersAreEscaped() {
        XCTAssertEqual(SafeText.text("HF1"), "HF1")
        XCTAssertEqual(SafeText.text("a\u{0}b"), #"a\u0000b"#)
        XCTAssertEqual(SafeText.text("\t\n\r\u{1B}\u{7F}\u{85}\u{9F}"), #"\u0009\u000a\u000d\u001b\u007f\u0085\u009f"#)
        XCTAssertEqual(SafeText.text("路灯 é 😀 \u{A0}"), "路灯 é 😀 \u{A0}", "printable text is kept as it is")
        XCTAssertEqual(SafeText.text(#"\u0000"#), #"\u0000"#, "a backslash is kept")
    }

    func testInvalidUTF8BecomesReplacementCharacters() {
        XCTAssertEqual(SafeText.text([0x41, 0x00, 0xFF]), "A\\u0000\u{FFFD}")
        XCTAssertEqual(SafeText.text([0xC0, 0xAF]), "\u{FFFD}\u{FFFD}", "overlong form")
        XCTAssertEqual(SafeText.text([0xED, 0xA0, 0x80]), "\u{FFFD}\u{FFFD}\u{FFFD}", "encoded surrogate")
        XCTAssertEqual(SafeText.text([0xE8, 0xB7]), "\u{FFFD}\u{FFFD}", "truncated sequence")
        XCTAssertEqual(SafeText.text(Array("路灯".utf8)), "路灯")
        XCTAssertEqual(SafeText.text([UInt8]()), "")
    }

    func testLengthIsBoundedWithTheBytesLeftOut() {
        XCTAssertEqual(
            SafeText.text(String(repeating: "a", count: 600)),
            String(repeating: "a", count: 512) + "…(88 more bytes)")
        XCTAssertEqual(SafeText.text("路灯不亮", maxLength: 2), "路灯…(6 more bytes)")
        XCTAssertEqual(SafeText.text("ab\u{0}cd", maxLength: 4), "ab…(3 more bytes)", "an escape is never cut")
        XCTAssertEqual(SafeText.text([0x61, 0x62, 0xFF, 0x63], maxLength: 2), "ab…(2 more bytes)")
        XCTAssertEqual(SafeText.text(String(repeating: "a", count: 512)), String(repeating: "a", count: 512))
    }

    /// Random bytes: the result is valid, has no control character, stays within its bound,
    /// and is unchanged by a second pass.
    func testRandomBytes() {
        var rng = SeededGenerator(seed: 0x5AFE_7E47)
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 80)
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let limit = Int(rng.next() % 40) + 6
            let s = SafeText.text(bytes, maxLength: limit)
            XCTAssertFalse(s.unicodeScalars.contains(where: SafeText.isControl), "\(bytes)")
            let body = s.range(of: "…(").map { String(s[..<$0.lowerBound]) } ?? s
            XCTAssertLessThanOrEqual(body.unicodeScalars.count, limit)
            if body == s { XCTAssertEqual(SafeText.text(s, maxLength: limit), s, "idempotent: \(bytes)") }
        }
    }
}
